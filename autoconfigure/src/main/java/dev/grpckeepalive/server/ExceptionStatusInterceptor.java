package dev.grpckeepalive.server;

import java.util.List;

import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import org.jspecify.annotations.Nullable;

/**
 * Closes a call whose service throws with the status a {@link GrpcExceptionHandler} maps the
 * exception to; rethrows what no handler maps, so that grpc-java ends the call with UNKNOWN as
 * it would without handlers. Innermost of the server's interceptors, so that every other
 * interceptor (observations, the starter's call counting) sees the mapped status as the
 * call's close.
 */
final class ExceptionStatusInterceptor implements ServerInterceptor {

	private final List<GrpcExceptionHandler> handlers;

	ExceptionStatusInterceptor(List<GrpcExceptionHandler> handlers) {
		this.handlers = List.copyOf(handlers);
	}

	@Override
	public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(ServerCall<ReqT, RespT> call, Metadata headers,
			ServerCallHandler<ReqT, RespT> next) {
		ClosingCall<ReqT, RespT> closing = new ClosingCall<>(call);
		ServerCall.Listener<ReqT> listener;
		try {
			listener = next.startCall(closing, headers);
		}
		catch (RuntimeException ex) {
			handle(closing, ex);
			return new ServerCall.Listener<>() {
			};
		}
		return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(listener) {

			@Override
			public void onMessage(ReqT message) {
				try {
					super.onMessage(message);
				}
				catch (RuntimeException ex) {
					handle(closing, ex);
				}
			}

			@Override
			public void onHalfClose() {
				try {
					super.onHalfClose();
				}
				catch (RuntimeException ex) {
					handle(closing, ex);
				}
			}

			@Override
			public void onReady() {
				try {
					super.onReady();
				}
				catch (RuntimeException ex) {
					handle(closing, ex);
				}
			}

		};
	}

	private void handle(ClosingCall<?, ?> call, RuntimeException exception) {
		Status status = (call.closed) ? null : statusFor(exception);
		if (status == null) {
			throw exception;
		}
		call.close(status, new Metadata());
	}

	private @Nullable Status statusFor(Throwable exception) {
		for (GrpcExceptionHandler handler : this.handlers) {
			Status status = handler.handleException(exception);
			if (status != null) {
				return status;
			}
		}
		return null;
	}

	/** Knows whether the service closed the call before it threw: a closed call is not closed again. */
	private static final class ClosingCall<ReqT, RespT> extends ForwardingServerCall.SimpleForwardingServerCall<ReqT, RespT> {

		volatile boolean closed;

		ClosingCall(ServerCall<ReqT, RespT> delegate) {
			super(delegate);
		}

		@Override
		public void close(Status status, Metadata trailers) {
			this.closed = true;
			super.close(status, trailers);
		}

	}

}
