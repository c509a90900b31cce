package dev.grpckeepalive.shutdown;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

import io.grpc.ForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.Status;
import org.jspecify.annotations.Nullable;

/**
 * The server call as the application sees it, which the server can close when its
 * shutdown grace has run out, with a status that says so, instead of leaving it to
 * grpc-java's {@code shutdownNow()}, whose stream reset clients see as
 * {@code CANCELLED: RST_STREAM closed stream}.
 *
 * <p>{@link ServerCall} is not thread-safe: grpc-java requires that its methods are not
 * called concurrently, and the application may call them from any thread, one at a time.
 * The server's close must therefore never overlap one of the application's. Rather than a
 * lock, which the application would take on every message, the call has a small state:
 * the application's sendHeaders, sendMessage, close and compression settings move it from
 * {@code IDLE} to {@code BUSY} and back with one compare-and-set each. The server closes an
 * {@code IDLE} call itself, after winning the compare-and-set to {@code CLOSED_FOR_SHUTDOWN},
 * which also orders it after the application's last use; a {@code BUSY} call it marks
 * {@code CLOSE_REQUESTED}, and the application thread, on its way out of the delegate,
 * closes it. Nobody waits. Once closed for shutdown, the application's further sends are
 * dropped (its client has the final status already) and {@link #isCancelled()} is true, so
 * that services that check it stop. {@code request}, {@code isReady} and the getters are
 * thread-safe in grpc-java and are forwarded as they are.
 *
 * <p>Registered with its connection's {@link ServerCalls} from start to end.
 */
public final class ClosableServerCall<ReqT, RespT> extends ForwardingServerCall.SimpleForwardingServerCall<ReqT, RespT> {

	private static final int IDLE = 0;

	private static final int BUSY = 1;

	private static final int CLOSE_REQUESTED = 2;

	private static final int CLOSED_BY_APPLICATION = 3;

	private static final int CLOSED_FOR_SHUTDOWN = 4;

	/** What {@link #enter()} answers when the application calls concurrently or after its close: no guard held. */
	private static final int UNGUARDED = -1;

	/** What {@link #enter()} answers after a close for shutdown: drop the application's call. */
	private static final int DROP = -2;

	private static final VarHandle STATE;

	static {
		try {
			STATE = MethodHandles.lookup().findVarHandle(ClosableServerCall.class, "state", int.class);
		}
		catch (ReflectiveOperationException ex) {
			throw new ExceptionInInitializerError(ex);
		}
	}

	/** When the call started, on the tracker's ticker: the cut calls' durations at a connection's close. */
	final long startedNanos;

	private volatile int state;

	/** Set before the shutdown asks for the close, read by whichever thread performs it. */
	private volatile @Nullable Status shutdownStatus;

	/** The connection's list of calls, guarded by the list. */
	@Nullable ClosableServerCall<?, ?> previous;

	@Nullable ClosableServerCall<?, ?> next;

	/**
	 * Wraps a call that started at {@code startedNanos}; register it with its connection's
	 * {@link ServerCalls} until it ends.
	 * @param delegate grpc-java's call
	 * @param startedNanos when it started, on the connection tracker's ticker
	 */
	public ClosableServerCall(ServerCall<ReqT, RespT> delegate, long startedNanos) {
		super(delegate);
		this.startedNanos = startedNanos;
	}

	/**
	 * Closes the call with {@code status} now if the application is not using it, else as
	 * soon as the application's current call on it returns. Never blocks. Idempotent; a call
	 * the application has closed stays as it is.
	 */
	void closeForShutdown(Status status) {
		this.shutdownStatus = status;
		while (true) {
			int current = this.state;
			if (current == IDLE) {
				if (STATE.compareAndSet(this, IDLE, CLOSED_FOR_SHUTDOWN)) {
					closeDelegate(status);
					return;
				}
			}
			else if (current == BUSY) {
				if (STATE.compareAndSet(this, BUSY, CLOSE_REQUESTED)) {
					return;
				}
			}
			else {
				return;
			}
		}
	}

	/** Whether the call is closed, by the application or for shutdown. */
	boolean isClosed() {
		int current = this.state;
		return current == CLOSED_BY_APPLICATION || current == CLOSED_FOR_SHUTDOWN;
	}

	/** Whether the server closed the call for shutdown, before the application did. */
	public boolean isClosedForShutdown() {
		return this.state == CLOSED_FOR_SHUTDOWN;
	}

	@Override
	public void sendHeaders(Metadata headers) {
		int guard = enter();
		if (guard != DROP) {
			try {
				super.sendHeaders(headers);
			}
			finally {
				exit(guard);
			}
		}
	}

	@Override
	public void sendMessage(RespT message) {
		int guard = enter();
		if (guard != DROP) {
			try {
				super.sendMessage(message);
			}
			finally {
				exit(guard);
			}
		}
	}

	@Override
	public void close(Status status, Metadata trailers) {
		int guard = enter();
		if (guard != DROP) {
			try {
				super.close(status, trailers);
			}
			finally {
				if (guard == BUSY) {
					// closed: a close requested meanwhile has nothing left to do
					this.state = CLOSED_BY_APPLICATION;
				}
			}
		}
	}

	@Override
	public void setMessageCompression(boolean enabled) {
		int guard = enter();
		if (guard != DROP) {
			try {
				super.setMessageCompression(enabled);
			}
			finally {
				exit(guard);
			}
		}
	}

	@Override
	public void setCompression(String compressor) {
		int guard = enter();
		if (guard != DROP) {
			try {
				super.setCompression(compressor);
			}
			finally {
				exit(guard);
			}
		}
	}

	@Override
	public boolean isCancelled() {
		return this.state == CLOSED_FOR_SHUTDOWN || super.isCancelled();
	}

	/** {@code BUSY} when the guard was taken, {@link #DROP} or {@link #UNGUARDED} otherwise. */
	private int enter() {
		if (STATE.compareAndSet(this, IDLE, BUSY)) {
			return BUSY;
		}
		// Concurrent use by the application, or use after its own close, breaks ServerCall's
		// contract already: forward as grpc-java would without this wrapper.
		return (this.state == CLOSED_FOR_SHUTDOWN) ? DROP : UNGUARDED;
	}

	private void exit(int guard) {
		if (guard == BUSY && !STATE.compareAndSet(this, BUSY, IDLE)) {
			// CLOSE_REQUESTED: only this thread leaves that state
			this.state = CLOSED_FOR_SHUTDOWN;
			closeDelegate(this.shutdownStatus);
		}
	}

	private void closeDelegate(@Nullable Status status) {
		try {
			super.close((status != null) ? status : Status.UNAVAILABLE, new Metadata());
		}
		catch (RuntimeException ex) {
			// already closed underneath (a client cancel racing the shutdown): nothing to tell
		}
	}

}
