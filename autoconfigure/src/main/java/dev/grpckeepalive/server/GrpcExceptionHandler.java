package dev.grpckeepalive.server;

import io.grpc.Status;
import org.jspecify.annotations.Nullable;

/**
 * Maps an exception a service method of the starter's server throws to the {@link Status} its
 * client gets, like Spring gRPC's {@code GrpcExceptionHandler}. Beans of this type are asked in
 * {@link org.springframework.core.annotation.Order @Order}; the first non-null answer closes
 * the call with that status. When none answers, grpc-java's behaviour stays: the call ends
 * with UNKNOWN. Applies to exceptions thrown while the service handles the call (the method
 * itself, or a request observer's {@code onNext}, {@code onCompleted}); an exception the service
 * hands to {@code onError} is already a status of its own choosing.
 */
@FunctionalInterface
public interface GrpcExceptionHandler {

	/**
	 * The status for an exception.
	 * @param exception what the service threw
	 * @return the status the call is closed with, or {@code null} if this handler does not deal with it
	 */
	@Nullable Status handleException(Throwable exception);

}
