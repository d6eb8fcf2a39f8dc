"""LocalStack provider ``dynamodb:moto``: DynamoDB served by LocalStack's bundled moto backend.

LocalStack's own DynamoDB provider runs DynamoDB Local, a Java jar it downloads from AWS at
first use (under AWS's own licence terms, on no package index). Where nothing can be
downloaded, ``PROVIDER_OVERRIDE_DYNAMODB=moto`` selects this provider: requests still pass
LocalStack's gateway, request parser, account / region handling and serializer on the edge
port; the tables live in moto-ext's DynamoDB backend, which LocalStack ships for its other
moto-backed services.
"""

from __future__ import annotations

from localstack.services.plugins import Service, aws_provider


@aws_provider(api="dynamodb", name="moto")
def dynamodb_moto() -> Service:
    """Every DynamoDB operation falls through to moto (the base API raises NotImplementedError)."""
    from localstack.aws.api.dynamodb import DynamodbApi
    from localstack.services.moto import MotoFallbackDispatcher

    return Service.for_provider(DynamodbApi(), dispatch_table_factory=MotoFallbackDispatcher)
