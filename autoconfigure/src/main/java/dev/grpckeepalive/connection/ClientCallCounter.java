package dev.grpckeepalive.connection;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall;
import io.grpc.ForwardingClientCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;

/** Counts a channel's calls in flight, which tell its connections' active and idle states. */
final class ClientCallCounter implements ClientInterceptor {

	private final ConnectionTracker tracker;

	ClientCallCounter(ConnectionTracker tracker) {
		this.tracker = tracker;
	}

	@Override
	public <ReqT, RespT> ClientCall<ReqT, RespT> interceptCall(MethodDescriptor<ReqT, RespT> method,
			CallOptions callOptions, Channel next) {
		return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, callOptions)) {

			@Override
			public void start(Listener<RespT> responseListener, Metadata headers) {
				ClientCallCounter.this.tracker.channelCallStarted();
				try {
					super.start(new ForwardingClientCallListener.SimpleForwardingClientCallListener<>(responseListener) {

						@Override
						public void onClose(Status status, Metadata trailers) {
							ClientCallCounter.this.tracker.channelCallEnded();
							super.onClose(status, trailers);
						}

					}, headers);
				}
				catch (RuntimeException ex) {
					ClientCallCounter.this.tracker.channelCallEnded();
					throw ex;
				}
			}

		};
	}

}
