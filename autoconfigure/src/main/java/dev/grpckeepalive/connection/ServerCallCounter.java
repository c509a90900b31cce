package dev.grpckeepalive.connection;

import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;

import dev.grpckeepalive.shutdown.ClosableServerCall;
import dev.grpckeepalive.shutdown.ServerCalls;

/**
 * Counts each call against its connection's {@link ConnectionRecord}: active and total
 * calls, and the last activity that idle time is measured from; and hands the application a
 * {@link ClosableServerCall}, registered with the connection's {@link ServerCalls}, so that a
 * stopping server can close what outlives its grace with a clear status. Two small wrappers per call (call and
 * listener), and per message one uncontended compare-and-set on the way in and one on the
 * way out of each send. The first call of a connection also hands the record the client's
 * {@code user-agent}, for the keepalive advisor, where {@link UserAgentCapture} (which sees
 * calls to unknown methods too) has not already.
 */
final class ServerCallCounter implements ServerInterceptor {

	@Override
	public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(ServerCall<ReqT, RespT> call, Metadata headers,
			ServerCallHandler<ReqT, RespT> next) {
		ConnectionRecord record = call.getAttributes().get(ConnectionRecord.ATTRIBUTE);
		if (record == null) {
			return next.startCall(call, headers);
		}
		// without the frame observer, UserAgentCapture does not see the connection: the first call names it
		UserAgentCapture.userAgentOf(record, headers);
		long started = record.callStarted();
		ClosableServerCall<ReqT, RespT> closable = new ClosableServerCall<>(call, started);
		record.register(closable);
		ServerCall.Listener<ReqT> listener;
		try {
			listener = next.startCall(closable, headers);
		}
		catch (RuntimeException ex) {
			ended(record, closable);
			throw ex;
		}
		return new CountingListener<>(listener, record, closable);
	}

	private static void ended(ConnectionRecord record, ClosableServerCall<?, ?> call) {
		record.unregister(call);
		record.callEnded();
	}

	/** grpc-java calls exactly one of onComplete and onCancel per call. */
	private static final class CountingListener<ReqT>
			extends ForwardingServerCallListener.SimpleForwardingServerCallListener<ReqT> {

		private final ConnectionRecord record;

		private final ClosableServerCall<ReqT, ?> call;

		CountingListener(ServerCall.Listener<ReqT> delegate, ConnectionRecord record, ClosableServerCall<ReqT, ?> call) {
			super(delegate);
			this.record = record;
			this.call = call;
		}

		@Override
		public void onComplete() {
			try {
				// grpc-java reports a call the server closed as complete, whatever the status; to the
				// application, whose work was cut short by the shutdown, it was cancelled
				if (this.call.isClosedForShutdown()) {
					super.onCancel();
				}
				else {
					super.onComplete();
				}
			}
			finally {
				ended(this.record, this.call);
			}
		}

		@Override
		public void onCancel() {
			try {
				super.onCancel();
			}
			finally {
				ended(this.record, this.call);
			}
		}

	}

}
