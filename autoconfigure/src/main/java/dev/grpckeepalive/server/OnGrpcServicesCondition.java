package dev.grpckeepalive.server;

import io.grpc.BindableService;
import io.grpc.ServerServiceDefinition;

import org.springframework.boot.autoconfigure.condition.AnyNestedCondition;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;

/** Matches when the application defines at least one gRPC service, of either kind. */
class OnGrpcServicesCondition extends AnyNestedCondition {

	OnGrpcServicesCondition() {
		super(ConfigurationPhase.REGISTER_BEAN);
	}

	@ConditionalOnBean(BindableService.class)
	static class HasBindableService {

	}

	@ConditionalOnBean(ServerServiceDefinition.class)
	static class HasServiceDefinition {

	}

}
