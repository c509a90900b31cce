package dev.grpckeepalive.connection;

import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;

/**
 * Counts each call against its connection's {@link ConnectionRecord}: active and total
 * calls, and the last activity that idle time is measured from. One small listener wrapper
 * per call, nothing per message.
 */
public final class ServerCallCounter implements ServerInterceptor {

	@Override
	public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(ServerCall<ReqT, RespT> call, Metadata headers,
			ServerCallHandler<ReqT, RespT> next) {
		ConnectionRecord record = call.getAttributes().get(ConnectionRecord.ATTRIBUTE);
		if (record == null) {
			return next.startCall(call, headers);
		}
		record.callStarted();
		ServerCall.Listener<ReqT> listener;
		try {
			listener = next.startCall(call, headers);
		}
		catch (RuntimeException ex) {
			record.callEnded();
			throw ex;
		}
		return new CountingListener<>(listener, record);
	}

	/** grpc-java calls exactly one of onComplete and onCancel per call. */
	private static final class CountingListener<ReqT>
			extends ForwardingServerCallListener.SimpleForwardingServerCallListener<ReqT> {

		private final ConnectionRecord record;

		CountingListener(ServerCall.Listener<ReqT> delegate, ConnectionRecord record) {
			super(delegate);
			this.record = record;
		}

		@Override
		public void onComplete() {
			try {
				super.onComplete();
			}
			finally {
				this.record.callEnded();
			}
		}

		@Override
		public void onCancel() {
			try {
				super.onCancel();
			}
			finally {
				this.record.callEnded();
			}
		}

	}

}
