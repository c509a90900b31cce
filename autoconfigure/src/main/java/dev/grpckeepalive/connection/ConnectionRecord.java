package dev.grpckeepalive.connection;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.net.SocketAddress;
import java.util.ArrayList;
import java.util.List;

import io.grpc.Attributes;
import io.grpc.Status;
import org.jspecify.annotations.Nullable;

/**
 * One connection, from open to close: addresses, age, calls, idle time, PINGs and GOAWAYs,
 * and why it closed. Written by the frame observer on the connection's event loop and by
 * the call interceptor on call threads; read by the endpoint, health and meters.
 */
public final class ConnectionRecord {

	/** Where the server's transport attributes, and so every call's attributes, carry the record. */
	public static final Attributes.Key<ConnectionRecord> ATTRIBUTE = Attributes.Key
		.create("dev.grpckeepalive.connection");

	private final long id;

	private final ConnectionTracker tracker;

	private final @Nullable SocketAddress remote;

	private final @Nullable SocketAddress local;

	private final long openedAtMillis;

	private final long openedNanos;

	private static final VarHandle ACTIVE_CALLS = handle("activeCalls", int.class);

	private static final VarHandle TOTAL_CALLS = handle("totalCalls", long.class);

	private static final VarHandle REASON_HINT = handle("reasonHint", CloseReason.class);

	private static final VarHandle CLOSED = handle("closed", boolean.class);

	private final PingStatistics pings = new PingStatistics();

	// Plain fields behind VarHandles rather than atomic objects: one record per connection.
	private volatile int activeCalls;

	private volatile long totalCalls;

	private volatile @Nullable CloseReason reasonHint;

	private volatile boolean closed;

	private volatile long lastActivityNanos;

	private volatile boolean observed;

	private volatile @Nullable String observerOffReason;

	private volatile boolean draining;

	private volatile boolean socketReleasedByStarter;

	private volatile @Nullable GoAway lastGoAwaySent;

	private volatile @Nullable GoAway lastGoAwayReceived;

	private volatile @Nullable CloseReason closeReason;

	private volatile long closedNanos;

	/** Guards {@link #calls} and the links between them. */
	private final Object callsLock = new Object();

	/**
	 * The server calls in flight, as a list linked through the calls themselves so that
	 * starting a call allocates no node. Held only for a few pointer writes, and contended
	 * only by calls of this one connection.
	 */
	private @Nullable ClosableServerCall<?, ?> calls;

	private static VarHandle handle(String field, Class<?> type) {
		try {
			return MethodHandles.lookup().findVarHandle(ConnectionRecord.class, field, type);
		}
		catch (ReflectiveOperationException ex) {
			throw new ExceptionInInitializerError(ex);
		}
	}

	ConnectionRecord(long id, ConnectionTracker tracker, @Nullable SocketAddress remote, @Nullable SocketAddress local,
			long openedAtMillis, long openedNanos) {
		this.id = id;
		this.tracker = tracker;
		this.remote = remote;
		this.local = local;
		this.openedAtMillis = openedAtMillis;
		this.openedNanos = openedNanos;
		this.lastActivityNanos = openedNanos;
	}

	/** Marks the record as fed by a frame observer, so that PING figures are meaningful. */
	public void observed() {
		this.observed = true;
	}

	/** The frame observer gave up on this connection (bytes that are not HTTP/2). */
	public void observerOff(String reason) {
		this.observerOffReason = reason;
		hint(CloseReason.ERROR);
	}

	public void callStarted() {
		ACTIVE_CALLS.getAndAdd(this, 1);
		TOTAL_CALLS.getAndAdd(this, 1L);
		this.lastActivityNanos = this.tracker.nanoTime();
		this.tracker.callStarted();
	}

	public void callEnded() {
		ACTIVE_CALLS.getAndAdd(this, -1);
		this.lastActivityNanos = this.tracker.nanoTime();
		this.tracker.callEnded();
	}

	/** A server call started: it can be closed for shutdown from now on, and at once if that has begun. */
	void register(ClosableServerCall<?, ?> call) {
		synchronized (this.callsLock) {
			call.next = this.calls;
			if (this.calls != null) {
				this.calls.previous = call;
			}
			this.calls = call;
		}
		// after the insert: closeCallsForShutdown sets the status before it takes the list
		Status closing = this.tracker.callsClosingStatus();
		if (closing != null) {
			call.closeForShutdown(closing);
		}
	}

	/** A server call ended. */
	void unregister(ClosableServerCall<?, ?> call) {
		synchronized (this.callsLock) {
			if (call.previous != null) {
				call.previous.next = call.next;
			}
			else if (this.calls == call) {
				this.calls = call.next;
			}
			if (call.next != null) {
				call.next.previous = call.previous;
			}
			call.previous = null;
			call.next = null;
		}
	}

	/** Closes every server call in flight with {@code status}, see {@link ClosableServerCall}; returns how many. */
	int closeCallsForShutdown(Status status) {
		List<ClosableServerCall<?, ?>> running = new ArrayList<>();
		synchronized (this.callsLock) {
			for (ClosableServerCall<?, ?> call = this.calls; call != null; call = call.next) {
				running.add(call);
			}
		}
		// outside the lock: a close may run grpc-java code
		running.forEach((call) -> call.closeForShutdown(status));
		return running.size();
	}

	public void pingSent(PingKind kind) {
		this.pings.recordSent(kind);
		this.tracker.pings().recordSent(kind);
	}

	public void pingAcked(PingKind kind, long roundTripNanos) {
		this.pings.recordAck(roundTripNanos);
		this.tracker.pingAcked(kind, roundTripNanos);
	}

	public void pingReceived() {
		this.pings.recordReceived();
		this.tracker.pings().recordReceived();
	}

	/** A keepalive PING this side sent was not acknowledged within the keepalive timeout. */
	public void keepAliveTimedOut() {
		this.pings.recordTimeout();
		this.tracker.keepAliveTimedOut();
		hint(CloseReason.KEEPALIVE_TIMEOUT);
	}

	/**
	 * This side sent a GOAWAY.
	 * @param errorCode the HTTP/2 error code
	 * @param debugData the debug data
	 * @param keepAliveOverdue whether a keepalive PING was overdue when it was sent
	 */
	public void goAwaySent(long errorCode, String debugData, boolean keepAliveOverdue) {
		CloseReason reason = CloseReason.fromDebugData(debugData);
		if (reason == null) {
			if (errorCode != 0) {
				reason = CloseReason.ERROR;
			}
			else if (keepAliveOverdue) {
				reason = CloseReason.KEEPALIVE_TIMEOUT;
			}
			else if (this.tracker.isShuttingDown()) {
				reason = CloseReason.APP_REQUESTED;
			}
		}
		this.lastGoAwaySent = goAway(GoAway.SENT, errorCode, debugData, reason);
		this.draining = true;
		hint(reason);
	}

	/** The peer sent a GOAWAY. */
	public void goAwayReceived(long errorCode, String debugData) {
		CloseReason reason = CloseReason.fromDebugData(debugData);
		if (reason == null) {
			reason = (errorCode != 0) ? CloseReason.ERROR : CloseReason.PEER_GOAWAY;
		}
		this.lastGoAwayReceived = goAway(GoAway.RECEIVED, errorCode, debugData, reason);
		this.draining = true;
		hint((reason == CloseReason.ERROR) ? CloseReason.PEER_GOAWAY : reason);
	}

	private GoAway goAway(String direction, long errorCode, String debugData, @Nullable CloseReason reason) {
		String tag = (reason != null) ? reason.tag() : GoAway.OTHER;
		GoAway goAway = new GoAway(direction, errorCode, debugData, tag, this.tracker.currentTimeMillis());
		this.tracker.goAway(goAway);
		return goAway;
	}

	/** After a keepalive timeout, the starter made sure the socket is released (abortive close). */
	public void socketReleasedByStarter() {
		this.socketReleasedByStarter = true;
	}

	/** Whether the starter released the socket after a keepalive timeout. */
	public boolean isSocketReleasedByStarter() {
		return this.socketReleasedByStarter;
	}

	/**
	 * This side closed the connection before the peer completed the HTTP/2 handshake, as
	 * grpc-java's server does at its handshake timeout: an error, unless the application is
	 * shutting down.
	 */
	public void closedBeforeHandshake() {
		if (!this.tracker.isShuttingDown()) {
			hint(CloseReason.ERROR);
		}
	}

	/** Notes an error on the connection, for the close reason. */
	public void errorSeen() {
		hint(CloseReason.ERROR);
	}

	private void hint(@Nullable CloseReason reason) {
		if (reason != null) {
			REASON_HINT.compareAndSet(this, null, reason);
		}
	}

	/** Closes the record; only the first call counts. */
	public void close() {
		if (!CLOSED.compareAndSet(this, false, true)) {
			return;
		}
		this.closedNanos = this.tracker.nanoTime();
		CloseReason hinted = this.reasonHint;
		this.closeReason = (hinted != null) ? hinted : this.tracker.inferCloseReason(this);
		this.tracker.closed(this);
	}

	public long id() {
		return this.id;
	}

	public ConnectionTracker tracker() {
		return this.tracker;
	}

	public @Nullable SocketAddress remote() {
		return this.remote;
	}

	public @Nullable SocketAddress local() {
		return this.local;
	}

	public long openedAtMillis() {
		return this.openedAtMillis;
	}

	long openedNanos() {
		return this.openedNanos;
	}

	/** Age in nanoseconds: up to now while open, up to the close once closed. */
	public long ageNanos() {
		long end = this.closed ? this.closedNanos : this.tracker.nanoTime();
		return end - this.openedNanos;
	}

	/** How long the connection has been without calls, 0 while calls are in flight. */
	public long idleNanos() {
		if (this.activeCalls > 0) {
			return 0;
		}
		long end = this.closed ? this.closedNanos : this.tracker.nanoTime();
		return end - this.lastActivityNanos;
	}

	public int activeCalls() {
		return this.activeCalls;
	}

	public long totalCalls() {
		return this.totalCalls;
	}

	public ConnectionState state() {
		if (this.closed) {
			return ConnectionState.CLOSED;
		}
		if (this.draining) {
			return ConnectionState.DRAINING;
		}
		// A channel does not know which of its connections a call uses: it counts calls per channel.
		int calls = (this.tracker.side() == ConnectionTracker.Side.CLIENT) ? this.tracker.activeCalls()
				: this.activeCalls;
		return (calls > 0) ? ConnectionState.ACTIVE : ConnectionState.IDLE;
	}

	/** Whether a frame observer watched this connection and still does. */
	public boolean isObserved() {
		return this.observed && this.observerOffReason == null;
	}

	public @Nullable String observerOffReason() {
		return this.observerOffReason;
	}

	public PingStatistics pings() {
		return this.pings;
	}

	public @Nullable GoAway lastGoAwaySent() {
		return this.lastGoAwaySent;
	}

	public @Nullable GoAway lastGoAwayReceived() {
		return this.lastGoAwayReceived;
	}

	public boolean isClosed() {
		return this.closed;
	}

	/** Why the connection closed, or {@code null} while it is open. */
	public @Nullable CloseReason closeReason() {
		return this.closeReason;
	}

	/** The id as it appears in the endpoint: {@code s-42} for the server, {@code c-<channel>-42} for a channel. */
	public String displayId() {
		return this.tracker.idPrefix() + this.id;
	}

}
