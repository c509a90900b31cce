package dev.grpckeepalive.shutdown;

import java.util.function.Supplier;

import io.grpc.Status;
import org.jspecify.annotations.Nullable;

/**
 * The orderly shutdown of one server or channel by this application: whether it has begun,
 * which tells the close reason of the connections that close from then on
 * ({@code app_requested}), and, for a server whose shutdown grace has run out, the close of
 * the calls still in flight with a status that says so.
 */
public final class Shutdown {

	private final Supplier<? extends Iterable<ServerCalls>> connections;

	private volatile boolean started;

	private volatile @Nullable Status callsClosingStatus;

	/**
	 * The shutdown of the server or channel whose open connections' calls {@code connections}
	 * hands out (none for a channel).
	 * @param connections the calls in flight of each open connection, read at the close of calls
	 */
	public Shutdown(Supplier<? extends Iterable<ServerCalls>> connections) {
		this.connections = connections;
	}

	/** Marks the start of an orderly shutdown by this application: closes from now on are {@code app_requested}. */
	public void start() {
		this.started = true;
	}

	/** Whether {@link #start()} was called. */
	public boolean isStarted() {
		return this.started;
	}

	/**
	 * Closes every server call still in flight on the open connections with {@code status},
	 * and calls that start from now on as soon as they start. For a stopping server whose
	 * shutdown grace has run out, before grpc-java's {@code shutdownNow()}: the clients get
	 * this status rather than a stream reset. Never blocks on a call; a call the application
	 * is using at the moment is closed as soon as that use returns.
	 * @param status the status the clients get
	 * @return how many calls were in flight
	 */
	public int closeCalls(Status status) {
		// before the lists are taken: a call registered after its list was read sees the status
		this.callsClosingStatus = status;
		int closed = 0;
		for (ServerCalls calls : this.connections.get()) {
			closed += calls.closeForShutdown(status);
		}
		return closed;
	}

	@Nullable Status callsClosingStatus() {
		return this.callsClosingStatus;
	}

}
