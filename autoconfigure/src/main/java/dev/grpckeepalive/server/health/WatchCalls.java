package dev.grpckeepalive.server.health;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.health.v1.HealthGrpc;

/**
 * Ends the health service's {@code Watch} streams when the server drains. A {@code Watch} never
 * ends by itself: left alone, each one would hold the server's graceful shutdown until the
 * shutdown grace runs out and then fail with UNAVAILABLE. Once the watchers have been sent
 * NOT_SERVING and the GOAWAY has gone out, {@link #endAll()} completes every stream with OK, and
 * a {@code Watch} that still arrives completes right after its first (NOT_SERVING) answer.
 *
 * <p>grpc-java's health service keeps sending on a watch's call from its own threads; each
 * call is therefore wrapped so that its sends and the close never overlap, and sends after the
 * close are dropped. Only {@code Watch} calls are wrapped: there are few, and they are not a
 * hot path.
 */
final class WatchCalls implements ServerInterceptor {

	private static final String WATCH = HealthGrpc.getWatchMethod().getFullMethodName();

	private final Set<WatchCall<?, ?>> open = ConcurrentHashMap.newKeySet();

	private volatile boolean draining;

	@Override
	public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(ServerCall<ReqT, RespT> call, Metadata headers,
			ServerCallHandler<ReqT, RespT> next) {
		if (!WATCH.equals(call.getMethodDescriptor().getFullMethodName())) {
			return next.startCall(call, headers);
		}
		WatchCall<ReqT, RespT> watch = new WatchCall<>(call);
		this.open.add(watch);
		ServerCall.Listener<ReqT> listener;
		try {
			listener = next.startCall(watch, headers);
		}
		catch (RuntimeException ex) {
			this.open.remove(watch);
			throw ex;
		}
		return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(listener) {

			@Override
			public void onHalfClose() {
				// the health service answers the current status here
				super.onHalfClose();
				if (WatchCalls.this.draining) {
					end(watch);
				}
			}

			@Override
			public void onComplete() {
				WatchCalls.this.open.remove(watch);
				super.onComplete();
			}

			@Override
			public void onCancel() {
				WatchCalls.this.open.remove(watch);
				super.onCancel();
			}

		};
	}

	/** Completes every open {@code Watch} with OK, and each later one after its first answer. */
	void endAll() {
		this.draining = true;
		this.open.forEach(this::end);
	}

	private void end(WatchCall<?, ?> watch) {
		watch.closeOk();
		this.open.remove(watch);
	}

	/** How many {@code Watch} streams are open. */
	int openCount() {
		return this.open.size();
	}

	/** A watch's call whose sends and close are serialized, and closed at most once. */
	private static final class WatchCall<ReqT, RespT> extends ForwardingServerCall.SimpleForwardingServerCall<ReqT, RespT> {

		private boolean closed;

		WatchCall(ServerCall<ReqT, RespT> delegate) {
			super(delegate);
		}

		@Override
		public synchronized void sendHeaders(Metadata headers) {
			if (!this.closed) {
				super.sendHeaders(headers);
			}
		}

		@Override
		public synchronized void sendMessage(RespT message) {
			if (!this.closed) {
				super.sendMessage(message);
			}
		}

		@Override
		public synchronized void close(Status status, Metadata trailers) {
			if (!this.closed) {
				this.closed = true;
				super.close(status, trailers);
			}
		}

		synchronized void closeOk() {
			close(Status.OK, new Metadata());
		}

	}

}
