"""The report's fixed text in English and Korean: ``t(lang, key, **params)``.

``MESSAGES[lang]`` holds headings and labels (``ui.*``), verdict titles and fixes
(``verdict.CODE.title`` / ``.fix``), and the analysis's phrase templates (a
:class:`~harness.analysis.Phrase` key; English falls back to the phrase's own template).
"""

from __future__ import annotations

from typing import Any

from harness.analysis import VERDICTS, Phrase, Verdict
from harness.analysis.model import explain

LANGS = ("en", "ko")

UI_EN: dict[str, str] = {
    "ui.title": "NanoGrid diagnosis report: {scenario}",
    "ui.summary": "Summary of problems found",
    "ui.no_problem": "No problem found: every verdict is ruled out or unknown.",
    "ui.variant": "Variant",
    "ui.client_status": "Client status",
    "ui.confirmed": "Confirmed",
    "ui.problem": "Problem",
    "ui.evidence_log": "Evidence (log excerpt)",
    "ui.cause": "Cause analysis (verdicts)",
    "ui.hypotheses": "The memo's hypotheses",
    "ui.memo_steps": "Timeline (the memo's four steps)",
    "ui.timeline": "Full timeline",
    "ui.published": "Result JSON actually published",
    "ui.not_published": "No result was published or fetched.",
    "ui.fixes": "Checklist of fixes",
    "ui.expected": "Expected result after the fix (control run)",
    "ui.no_control": "No control run was given.",
    "ui.observations": "Observations that tell the hypotheses apart in production logs",
    "ui.observation": "Observation",
    "ui.tells": "What it tells",
    "ui.divergence": "First divergence from the baseline",
    "ui.code": "Code",
    "ui.status": "Status",
    "ui.explanation": "Explanation",
    "ui.fix": "Fix",
    "ui.time": "Time (UTC)",
    "ui.offset": "Offset",
    "ui.component": "Component",
    "ui.event": "Event",
    "ui.kind": "Kind",
    "ui.swimlanes": "Swimlanes",
    "ui.waterfall": "Span waterfall",
    "ui.hypothesis": "Hypothesis",
    "ui.memo_guess": "Memo's guess",
    "ui.verdict": "Verdict",
    "ui.rows_omitted": "{n} more rows omitted",
    "ui.request": "Request",
    "status.confirmed": "confirmed",
    "status.ruled_out": "ruled out",
    "status.unknown": "unknown",
    "word.because": "because",
    "word.however": "however",
    "word.and": "; ",
    "obs.receivers": "PUBLISH receiver count",
    "obs.receivers.tells": (
        "0: nobody was subscribed (H3, or a dropped subscriber); 1+: the controller was listening"
    ),
    "obs.order": "'Subscribing to channel' before 'message sent'",
    "obs.order.tells": "no: the controller subscribed after sending the task (H3)",
    "obs.ignored": "'message ignored status=FAILED'",
    "obs.ignored.tells": "yes: the controller received FAILED and waited on (H1)",
    "obs.redis_error": "Redis error logged by the controller",
    "obs.redis_error.tells": "yes: the controller could not reach Redis (H2)",
    "obs.answer": "Controller's answer",
    "obs.answer.tells": "TIMEOUT with the worker done: the result was lost or ignored",
    "obs.yes": "yes",
    "obs.no": "no",
    "obs.none": "not seen",
    "ui.answer": "The answer: what went wrong, what followed, the fix",
    "ui.emulator": "AWS emulator",
    "ui.root_cause": "Root cause",
    "ui.consequence": "Consequence",
    "ui.follows_from": "follows from {codes}",
    "ui.evidence": "Evidence",
    "ui.sequence": "Sequence of messages",
    "ui.this_run": "This run: {name} ({status})",
    "ui.control_run": "Control: {name} ({status})",
    "ui.baseline_run": "Baseline: {name} ({status})",
    "ui.others": "Ruled out ({ruled_out}) and unknown ({unknown})",
    "ui.decides": "Explanation (for an unknown: the evidence that would decide it)",
    "ui.no_sequence": "No /run request was recorded: there is no sequence to draw.",
    "ui.more_requests": "{n} more requests are not drawn; the full timeline has them.",
    "ui.legend": "How to read it",
    "ui.codes": "Every verdict code",
    "ui.rows": "{n} rows",
    "ui.no_cause": "No root cause confirmed.",
    "legend.call": "call (solid line, filled head)",
    "legend.answer": "answer (dashed line)",
    "legend.push": "pushed message (solid line, open head)",
    "legend.error": "✕ failure (thick line)",
    "legend.unknown": "? outcome not in the evidence (dotted line)",
    "legend.cited": "[n] evidence a confirmed verdict cites (highlighted; links to it)",
    "legend.fault": "hatched band: a fault the harness injected (its ledger, not evidence)",
    "legend.idle": "grey band: idle time, compressed",
    "legend.divergence": "◆ first divergence from the baseline",
    "seq.no_answer": "{label} — no answer",
    "seq.failed": "{label} — failed",
    "seq.ignored": "ignored {label}",
    "seq.deadline_hit": "deadline hit {label}",
    "seq.connection_lost": "connection lost {label}",
    "seq.stored_result": "stored result {label}",
    "seq.receivers_unknown": "receivers not recorded",
    "seq.not_received": "{label}: no worker reported receiving it",
    "seq.not_published": "{label}: never reported",
    "seq.delivery_unknown": "{label}: delivery to the controller not recorded",
    "seq.invalid_package": "invalid package: {label}",
    "seq.never_finished": "{label}: never finished",
    "seq.timed_out": "timed out ({label})",
    "seq.out_of_memory": "out of memory ({label})",
    "seq.unreachable": "unreachable: {label}",
    "seq.exited": "process exited: {label}",
    "seq.idle": "{seconds} s idle",
    "seq.injected": "injected: {kind} ({fault})",
    "seq.divergence": "◆ first divergence",
    "seq.omitted": "{n} more messages not drawn (the full timeline has them)",
    "seq.time_unknown": "time unknown",
}

UI_KO: dict[str, str] = {
    "ui.title": "NanoGrid 진단 보고서: {scenario}",
    "ui.summary": "발견된 문제 요약",
    "ui.no_problem": "발견된 문제 없음: 모든 판정이 배제되었거나 알 수 없음입니다.",
    "ui.variant": "변형",
    "ui.client_status": "클라이언트 상태",
    "ui.confirmed": "확인됨",
    "ui.problem": "문제",
    "ui.evidence_log": "증거 (로그 발췌)",
    "ui.cause": "원인 분석 (판정)",
    "ui.hypotheses": "메모의 가설",
    "ui.memo_steps": "타임라인 (메모의 네 단계)",
    "ui.timeline": "전체 타임라인",
    "ui.published": "실제로 게시된 결과 JSON",
    "ui.not_published": "게시되거나 조회된 결과가 없습니다.",
    "ui.fixes": "수정 체크리스트",
    "ui.expected": "수정 후 예상 결과 (대조 실행)",
    "ui.no_control": "대조 실행이 주어지지 않았습니다.",
    "ui.observations": "운영 로그에서 가설을 구별하는 관찰 항목",
    "ui.observation": "관찰 항목",
    "ui.tells": "의미",
    "ui.divergence": "기준 실행과 처음 달라지는 지점",
    "ui.code": "코드",
    "ui.status": "상태",
    "ui.explanation": "설명",
    "ui.fix": "수정 방법",
    "ui.time": "시각 (UTC)",
    "ui.offset": "경과",
    "ui.component": "구성 요소",
    "ui.event": "이벤트",
    "ui.kind": "종류",
    "ui.swimlanes": "스윔레인",
    "ui.waterfall": "스팬 워터폴",
    "ui.hypothesis": "가설",
    "ui.memo_guess": "메모의 추정",
    "ui.verdict": "판정",
    "ui.rows_omitted": "{n}개 행 생략",
    "ui.request": "요청",
    "status.confirmed": "확인됨",
    "status.ruled_out": "배제됨",
    "status.unknown": "알 수 없음",
    "word.because": "근거:",
    "word.however": "단,",
    "word.and": "; ",
    "obs.receivers": "PUBLISH 수신자 수",
    "obs.receivers.tells": (
        "0: 구독자가 없었음 (H3 또는 구독 끊김); 1 이상: Controller가 수신 중이었음"
    ),
    "obs.order": "'message sent' 이전의 'Subscribing to channel'",
    "obs.order.tells": "아니오: Controller가 작업 전송 후에 구독함 (H3)",
    "obs.ignored": "'message ignored status=FAILED'",
    "obs.ignored.tells": "예: Controller가 FAILED를 받고도 계속 기다림 (H1)",
    "obs.redis_error": "Controller가 기록한 Redis 오류",
    "obs.redis_error.tells": "예: Controller가 Redis에 연결할 수 없었음 (H2)",
    "obs.answer": "Controller의 응답",
    "obs.answer.tells": "워커 완료 후 TIMEOUT: 결과가 유실되었거나 무시됨",
    "obs.yes": "예",
    "obs.no": "아니오",
    "obs.none": "관찰되지 않음",
    "ui.emulator": "AWS 에뮬레이터",
    "ui.answer": "결론: 무엇이 잘못되었고, 무엇이 뒤따랐고, 어떻게 고치는가",
    "ui.root_cause": "근본 원인",
    "ui.consequence": "파생 결과",
    "ui.follows_from": "{codes}에서 비롯됨",
    "ui.evidence": "증거",
    "ui.sequence": "메시지 순서",
    "ui.this_run": "이 실행: {name} ({status})",
    "ui.control_run": "대조 실행: {name} ({status})",
    "ui.baseline_run": "기준 실행: {name} ({status})",
    "ui.others": "배제됨 ({ruled_out}) 및 알 수 없음 ({unknown})",
    "ui.decides": "설명 (알 수 없음: 판정에 필요한 증거)",
    "ui.no_sequence": "/run 요청이 기록되지 않아 그릴 메시지 순서가 없습니다.",
    "ui.more_requests": "요청 {n}개는 그리지 않았습니다. 전체 타임라인에 있습니다.",
    "ui.legend": "읽는 법",
    "ui.codes": "모든 판정 코드",
    "ui.rows": "{n}개 행",
    "ui.no_cause": "확인된 근본 원인이 없습니다.",
    "legend.call": "호출 (실선, 채운 화살촉)",
    "legend.answer": "응답 (파선)",
    "legend.push": "푸시된 메시지 (실선, 빈 화살촉)",
    "legend.error": "✕ 실패 (굵은 선)",
    "legend.unknown": "? 증거에 결과가 없음 (점선)",
    "legend.cited": "[n] 확인된 판정이 인용한 증거 (강조, 판정으로 연결)",
    "legend.fault": "빗금 띠: 하네스가 주입한 장애 (장부 기록이며 증거가 아님)",
    "legend.idle": "회색 띠: 압축된 유휴 시간",
    "legend.divergence": "◆ 기준 실행과 처음 달라지는 지점",
    "seq.no_answer": "{label} — 응답 없음",
    "seq.failed": "{label} — 실패",
    "seq.ignored": "{label} 무시함",
    "seq.deadline_hit": "기한 도달 {label}",
    "seq.connection_lost": "연결 끊김 {label}",
    "seq.stored_result": "저장된 결과 {label}",
    "seq.receivers_unknown": "수신자 수 기록 없음",
    "seq.not_received": "{label}: 받았다고 보고한 워커 없음",
    "seq.not_published": "{label}: 보고되지 않음",
    "seq.delivery_unknown": "{label}: Controller 전달 기록 없음",
    "seq.invalid_package": "잘못된 패키지: {label}",
    "seq.never_finished": "{label}: 끝나지 않음",
    "seq.timed_out": "시간 초과 ({label})",
    "seq.out_of_memory": "메모리 부족 ({label})",
    "seq.unreachable": "연결 불가: {label}",
    "seq.exited": "프로세스 종료: {label}",
    "seq.idle": "{seconds}초 유휴",
    "seq.injected": "주입됨: {kind} ({fault})",
    "seq.divergence": "◆ 처음 달라지는 지점",
    "seq.omitted": "메시지 {n}개는 그리지 않음 (전체 타임라인에 있음)",
    "seq.time_unknown": "시각 알 수 없음",
}

#: The Korean template of every phrase key the analysis uses (same ``{placeholders}``).
PHRASES_KO: dict[str, str] = {
    "crash.because": "{worker}이(가) {ts}에 작업을 받았고 끝내지 못함",
    "crash.exited": "그 프로세스가 중지 요청 없이 {ts}에 종료됨 ({how})",
    "crash.heartbeat": "하트비트가 마지막으로 {ts}에 갱신됨",
    "crash.heartbeat_expired": "하트비트가 마지막으로 {ts}에 갱신되었고 {at}에 만료됨",
    "crash.heartbeat_expires": "하트비트가 마지막으로 {ts}에 갱신되었고 {at}에 만료될 예정",
    "crash.not_redelivered": "증거가 끝날 때까지 다른 워커가 작업을 받지 않음",
    "crash.once": "작업을 받은 모든 워커가 이를 끝냄 (또는 아직 실행 중)",
    "crash.redelivered": "SQS가 {ts}에 작업을 다시 전달함",
    "crash.unknown": "작업 수신에 대한 워커 증거가 없음",
    "fnp.ignored": "Controller가 {ts}에 이를 받았지만 무시함",
    "fnp.no_timeout": "타임아웃된 요청이 없음: 모든 응답이 클라이언트에 도달함",
    "fnp.not_failed": "워커는 FAILED가 아니라 {status}를 게시함",
    "fnp.not_sent": "작업이 전송되지 않아 게시된 것이 없음",
    "fnp.published": "워커가 {ts}에 FAILED를 게시했고 수신자는 {n}명이었음",
    "fnp.pushed": "네트워크가 {ts}에 이를 Controller에 전달함",
    "fnp.timeout": "Controller는 {ts}에 TIMEOUT으로 응답함: 결과가 무시됨",
    "fnp.unheard": "워커가 FAILED를 게시했지만 기다리던 Controller에 도달하지 않음",
    "deadline.untimed": (
        "Controller가 TIMEOUT으로 응답했지만 언제 대기를 포기했는지 기록이 없음(응답에 시각이 없고 "
        "Controller의 대기 로그나 trace도 없음): 타임아웃 로그나 클라이언트의 호출 시각이 "
        "있으면 판단 가능"
    ),
    "incons.status": (
        "워커는 상태 {done}로 DONE을 기록했지만 게시한 결과는 {published}: 워커 로그가 실제 결과를 "
        "보고하지 않음"
    ),
    "incons.ran_empty": (
        "워커가 패키지에서 파일을 하나도 찾지 못했는데도 함수를 실행함: 빈 패키지는 실행 전에 "
        "INVALID_PACKAGE로 끝나야 함"
    ),
    "incons.slow": "{what}에 {ms} ms 걸림({start} -> {end}); 보통은 {bound} ms보다 훨씬 짧음",
    "incons.duration": (
        "결과에는 함수가 {reported} ms 실행됐다고 되어 있지만 워커 로그는 {logged} ms"
    ),
    "healthy.undecided": (
        "{n}개 실행 모두 SUCCESS로 응답했지만, 성공 응답 뒤에 숨을 수 있는 {codes}를 "
        "증거로 배제할 수 없음"
    ),
    "crash.open": (
        "워커가 작업을 가져갔지만 끝냈거나 아직 실행 중이라는 증거가 없음: 워커의 프로세스 기록"
        "(오케스트레이터의 pod 이벤트)이나 span이 있으면 판단 가능"
    ),
    "fnp.unobserved": (
        "워커가 FAILED를 게시했지만 Controller에 도달했는지 기록된 것이 없음: PUBLISH 수신자 수가 "
        "로그에 없고(워커의 publish 로그에 `subscribers=`를 켜세요) Controller의 대기 trace나 "
        "로그도 없음; pub/sub 경로는 `doctor`로 확인하세요"
    ),
    "fnp.unknown": (
        "요청이 타임아웃되었고 워커가 무엇을 게시했는지 보여주는 증거가 없음: "
        "워커 로그나 결과 키를 기록하거나 `doctor`를 실행하세요"
    ),
    "function.FUNCTION_FAILED": "함수가 {ts}에 0이 아닌 종료 코드로 끝남",
    "function.FUNCTION_TIMEOUT": "함수가 {ts}에 제한 시간을 넘겨 강제 종료됨",
    "function.OUT_OF_MEMORY": "함수가 {ts}에 메모리 한도를 넘음",
    "function.never_ran": "함수가 실행되지 않음: 요청이 그 전에 끝남",
    "function.not": "함수의 모든 실행이 {what} 없이 끝남",
    "function.unknown": "함수 실행에 대한 증거가 없음",
    "h2.worker_only": "Redis 연결 불가는 {components}에서만 발생했고 Controller에서는 아님",
    "healthy.no_run": "/run 호출이 없었음",
    "healthy.not": "{codes} 확인됨; 클라이언트가 본 상태: {statuses}",
    "healthy.ok": "{n}개 실행 모두 SUCCESS로 응답했고 모든 장애 판정이 배제되었거나 알 수 없음",
    "invalid.because": "워커가 {ts}에 아카이브를 사용할 수 없음을 발견함",
    "invalid.no_worker": "패키지 다운로드나 압축 해제에 대한 워커 증거가 없음",
    "invalid.ran": "모든 워커가 아카이브를 풀고 함수를 실행함",
    "late.because": "Controller가 {deadline}에 대기를 멈췄고, 결과는 {ms} ms 뒤인 {ts}에 게시됨",
    "late.in_time": "결과가 Controller가 포기하기 전인 {ts}에 게시됨",
    "late.no_timeout": "Controller가 일찍 대기를 멈춘 적이 없음",
    "late.unknown": (
        "Controller가 포기했고 결과 게시 기록이 없음: 나중에 올 수도 있고 (resultUrl 조회) "
        "끝내 오지 않을 수도 있음"
    ),
    "memo.answered": "Controller: {ms} ms 후 {status}로 응답",
    "memo.no_answer": "클라이언트: 응답 없음 ({error})",
    "memo.not_sent": "/run 호출됨; 작업이 전송되지 않음 (HTTP {code})",
    "memo.publish_failed": "Worker: Redis 게시 실패: {error}",
    "memo.publish_unknown": "Worker: 게시 기록 없음",
    "memo.published": "Worker: Redis 게시 성공, 수신자={n}",
    "memo.sent": "/run 호출됨, SQS로 메시지 전송",
    "memo.sent_unknown": "/run 호출됨; 작업 전송 여부는 알 수 없음",
    "memo.timeout": "Controller: {deadline}초 기한에서 TIMEOUT (단계 {stage})",
    "memo.worker_done": "Worker: 처리 완료 {ms} ms ({status})",
    "memo.worker_unfinished": "Worker: 작업을 받았으나 완료를 보고하지 않음",
    "memo.worker_unknown": "Worker: 작업을 받았다고 보고한 워커가 없음",
    "nosub.after_deadline": (
        "PUBLISH가 수신자 0명에게 도달한 것은 Controller가 {ts}에 대기를 멈춘 뒤뿐임: "
        "구독할 쪽이 남아 있지 않았음"
    ),
    "nosub.dropped": "Controller의 구독이 {ts}에 끊김",
    "nosub.late": "Controller가 게시 이후인 {ts}에야 구독함",
    "lost.delivered": (
        "게시된 모든 결과가 Controller에 도달함 "
        "(연결의 기록, 또는 Controller 자신의 'message received')"
    ),
    "lost.unknown": (
        "Controller 자신의 연결이 받은 것에 대한 기록이 없음: Controller의 Redis 경로에 둔 "
        "디코딩 프록시(또는 캡처)가 판단할 수 있음"
    ),
    "lost.never": (
        "PUBLISH가 {ts}에 수신자를 셌고 Controller의 구독은 {sub}에 확인되었지만, 그 연결은 "
        "메시지를 받지 못함"
    ),
    "nosub.late_confirmed": (
        "Controller는 게시 전인 {asked}에 구독을 요청했지만, 구독 확인은 게시 이후인 {ts}에야 받음"
    ),
    "result.lost": "결과가 유실되어 Controller가 {status}로 응답함",
    "nosub.not_sent": "작업이 전송되지 않아 게시된 것이 없음",
    "nosub.reached": "모든 PUBLISH가 구독자에게 도달함 (처음: {ts}에 수신자 {n}명)",
    "result.recovered": "Controller는 저장된 결과를 읽어 {status}로 응답함",
    "nosub.unknown": (
        "PUBLISH 수신자 수가 기록되지 않음: 워커 게시 로그의 `subscribers=`를 켜거나, "
        "워커의 Redis 경로에 디코딩 프록시를 두거나, `doctor`를 실행하세요"
    ),
    "nosub.zero": "PUBLISH가 {ts}에 수신자 0명에게 도달함",
    "nowork.because": "작업이 {ts}에 전송되었으나 Controller가 기다리는 동안 어떤 워커도 받지 않음",
    "nowork.late": "{worker}이(가) 작업 전송 이후인 {ts}에야 폴링을 시작함",
    "nowork.none_alive": "{start}부터 {end}까지 실행 중인 워커 프로세스가 없었음",
    "nowork.not_sent": "작업이 전송되지 않아 워커가 받을 작업이 없었음",
    "nowork.sqs": "워커가 큐를 읽을 수 없었음: 그동안 수신 {n}건이 실패함",
    "nowork.stage": "Controller가 보고한 단계: {stage}",
    "nowork.taken": "전송된 모든 작업을 워커가 받음",
    "nowork.unknown": "작업이 전송되었다는 증거가 없음",
    "reach.because": "{component}이(가) {ts}에 {dependency}에 연결할 수 없었음 ({symptom})",
    "reach.reached": "모든 구성 요소가 {what}에 연결됨 (처음: {ts})",
    "reach.unknown": (
        "{what} 통신 기록이 전혀 없음: 구성 요소의 로그를 기록하거나 경로에 디코딩 프록시를 두세요"
    ),
    "reach.wire_also": "네트워크에서도 관찰됨: {symptoms}",
    "reach.wire_only": "네트워크에서만 관찰됨: 오류를 보고한 구성 요소가 없음",
    "slow.baseline": "기준 실행의 중앙값은 {ms} ms였음",
    "slow.none": "느린 단계가 없음 (하한 대비 가장 느린 단계: {step} {ms} ms)",
    "slow.steps": (
        "단계 {n}개가 느렸음; 가장 느린 {component}의 {step}는 {ms} ms 걸림 (하한 {floor} ms)"
    ),
    "slow.unknown": "단계 소요 시간이 기록되지 않음",
    "slowfn.because": "함수가 {ran}초 동안 실행됨; Controller는 모두 합쳐 {deadline}초를 기다림",
    "slowfn.in_time": "함수가 Controller의 기한 안에 충분히 일찍 끝남",
    "slowfn.no_timeout": "Controller의 대기 시간을 넘긴 요청이 없음",
    "slowfn.unknown": "함수 실행 시간에 대한 증거가 없음",
    "upload.accepted": "모든 업로드가 수락됨 ({n}개)",
    "upload.none": "업로드가 없었음: 코드가 다른 경로로 S3에 들어감",
    "upload.refused": "Controller가 {ts}에 업로드를 거부함 ({reason})",
}

VERDICTS_KO: dict[str, tuple[str, str]] = {
    "HEALTHY": ("정상", "수정할 것이 없습니다."),
    "INVALID_PACKAGE": (
        "잘못된 패키지",
        "/upload에서 업로드를 검증하세요 (main.py 없는 아카이브 거부). "
        "`zip function.zip main.py`로 다시 만들고 `unzip -l "
        "function.zip`로 확인한 뒤 다시 업로드하세요.",
    ),
    "UPLOAD_REJECTED": (
        "업로드 거부됨",
        "400 응답에 나온 아카이브를 고쳐 (루트에 main.py) 다시 업로드하세요.",
    ),
    "FUNCTION_FAILED": ("함수 실패", "게시된 stderr를 읽고 함수 코드를 고치세요."),
    "FAILED_NOT_PROPAGATED": (
        "FAILED 결과 미전달",
        "모든 종료 상태(SUCCESS와 FAILED)를 응답으로 처리하세요: "
        "대기를 끝내고 워커의 결과 JSON을 반환하세요.",
    ),
    "RESULT_PUBLISHED_WITHOUT_SUBSCRIBER": (
        "구독자 없이 게시된 결과",
        "작업을 보내기 전에 구독하고 확인을 기다리세요. 결과를 "
        "result:{requestId}에도 저장하고 구독 후 읽으세요.",
    ),
    "RESULT_MESSAGE_LOST": (
        "유실된 결과 메시지",
        "대기 중에도 저장된 result:{requestId}를 계속 읽으세요(결과를 복구함). Controller와 "
        "Redis 사이에 있는 것(프록시, 클라이언트 버퍼)을 살펴보세요.",
    ),
    "RESULT_AFTER_DEADLINE": (
        "기한 이후에 게시된 결과",
        "실행을 느리게 만든 원인(그 원인 판정 참조)을 없애세요. Controller의 기한을 "
        "함수의 timeoutSeconds와 시작 시간의 합보다 길게 유지하거나, 클라이언트가 "
        "resultUrl을 조회하게 하세요.",
    ),
    "REDIS_UNREACHABLE": (
        "Redis 연결 불가",
        "해당 호스트에서 TCP 6379를 여세요 (보안 그룹, VPC, 라우팅). "
        "`redis-cli -h <redis-endpoint> ping`으로 확인하고, "
        "작업을 넣지 말고 즉시 503으로 응답하세요.",
    ),
    "AWS_UNREACHABLE": (
        "AWS 서비스 연결 불가",
        "해당 호스트에서 경로와 엔드포인트(VPC 엔드포인트, 보안 그룹, "
        "AWS_ENDPOINT_URL_<SERVICE>), 자격 증명의 권한, 서비스 상태를 확인하세요. "
        "스로틀링에는 백오프로 재시도하세요.",
    ),
    "WORKER_NOT_CONSUMING": (
        "작업을 소비하는 워커 없음",
        "큐에 워커를 띄우세요 (워커 로그와 /health의 워커 수 확인).",
    ),
    "WORKER_CRASHED": (
        "워커 비정상 종료",
        "워커가 죽은 이유를 마지막 로그에서 찾으세요. 결과가 저장될 때까지 메시지를 "
        "유지해 SQS가 재전달하게 하고, 실행을 멱등으로 만드세요.",
    ),
    "FUNCTION_TIMEOUT": ("함수 타임아웃", "함수를 더 빨리 끝내거나 timeoutSeconds를 늘리세요."),
    "OUT_OF_MEMORY": ("메모리 부족", "함수의 메모리 사용을 줄이거나 memoryMB를 늘리세요."),
    "SLOW_FUNCTION": (
        "기한보다 느린 함수",
        "함수를 더 빠르게 만들거나, Controller의 기한(NANOGRID_RUN_DEADLINE)을 함수 실행 "
        "시간보다 길게 늘리세요. 클라이언트는 나중에 resultUrl을 조회할 수 있습니다.",
    ),
    "SLOW_DEPENDENCY": (
        "느린 의존성",
        "느린 스팬에서 느린 경로(네트워크 지연, 대역폭, "
        "스로틀링)를 찾고 클라이언트 타임아웃을 실행 기한보다 "
        "짧게 유지하세요.",
    ),
}

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        **UI_EN,
        **{f"verdict.{c}.title": i.title for c, i in VERDICTS.items()},
        **{f"verdict.{c}.fix": i.fix for c, i in VERDICTS.items()},
    },
    "ko": {
        **UI_KO,
        **PHRASES_KO,
        **{f"verdict.{c}.title": title for c, (title, _) in VERDICTS_KO.items()},
        **{f"verdict.{c}.fix": fix for c, (_, fix) in VERDICTS_KO.items()},
    },
}


def check_lang(lang: str) -> str:
    if lang not in MESSAGES:
        raise ValueError(f"unknown report language {lang!r}: choose one of {', '.join(LANGS)}")
    return lang


def t(lang: str, key: str, **params: Any) -> str:
    """The text of ``key`` in ``lang`` (English when missing), formatted with ``params``."""
    template = MESSAGES[lang].get(key) or MESSAGES["en"].get(key) or key
    return template.format(**params) if params else template


def phrase(lang: str, item: Phrase) -> str:
    return item.render(MESSAGES[lang].get(item.key))


def explanation(lang: str, verdict: Verdict) -> str:
    words = {k: t(lang, k) for k in MESSAGES["en"] if k.startswith(("status.", "word."))}
    words = {k.removeprefix("word."): v for k, v in words.items()}
    return explain(verdict, lambda p: phrase(lang, p), words)
