package dev.grpckeepalive.connection;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.List;

import io.grpc.Attributes;
import org.jspecify.annotations.Nullable;

import dev.grpckeepalive.shutdown.ClosableServerCall;
import dev.grpckeepalive.shutdown.ServerCalls;

/**
 * One connection, from open to close: addresses, age, calls, idle time, PINGs and GOAWAYs,
 * and why it closed. The starter's writer side: written by the frame observer on the
 * connection's event loop and by the call interceptor on call threads. Applications read
 * connections as {@link ConnectionSnapshot}s through {@link ConnectionTrackerView}, never as
 * records.
 *
 * <p>Publication: {@link #snapshot()} reads a consistent state. Closing writes the close time
 * and reason into one immutable {@link Closed} and publishes it with one volatile write, so a
 * reader sees either an open connection or a closed one with its reason and time, never half
 * of it; a call's end moves the last activity before it lowers the call count, so a reader
 * that sees no calls also sees when the last one ended.
 */
public final class ConnectionRecord {

	/** Where the server's transport attributes, and so every call's attributes, carry the record. */
	static final Attributes.Key<ConnectionRecord> ATTRIBUTE = Attributes.Key.create("dev.grpckeepalive.connection");

	private static final VarHandle ACTIVE_CALLS = handle("activeCalls", int.class);

	private static final VarHandle TOTAL_CALLS = handle("totalCalls", long.class);

	private static final VarHandle EVIDENCE = handle("evidence", int.class);

	private static final VarHandle CLOSED = handle("closed", Closed.class);

	private final long id;

	private final ConnectionTracker tracker;

	private final @Nullable SocketAddress remote;

	private final @Nullable SocketAddress local;

	private final long openedAtMillis;

	private final long openedNanos;

	private final ConnectionPings pings = new ConnectionPings();

	// Plain fields behind VarHandles rather than atomic objects: one record per connection.
	private volatile int activeCalls;

	private volatile long totalCalls;

	/** Bits of {@link CloseReasons#evidence}: what the events seen so far say about a close. */
	private volatile int evidence;

	private volatile long lastActivityNanos;

	/** When the calls in flight now began to be in flight without a break (server side). */
	private volatile long callsSinceNanos;

	/** The frame observer's measurement of the silence the connection ends with, asked for at the close. */
	private volatile SilenceBeforeClose.@Nullable Probe silenceProbe;

	private volatile boolean observed;

	private volatile @Nullable String observerOffReason;

	private volatile boolean draining;

	private volatile boolean socketReleasedByStarter;

	/** The abuse limit that closed the connection, if one did; written before its evidence. */
	private volatile @Nullable String abuseLimit;

	private volatile @Nullable GoAway lastGoAwaySent;

	private volatile @Nullable GoAway lastGoAwayReceived;

	/** The client's {@code user-agent}, from the first stream's headers (server side). */
	private volatile @Nullable String userAgent;

	/** What every gRPC C-core client's user agent contains, such as {@code grpc-python/1.51.1 grpc-c/29.0.0 (linux; chttp2)}. */
	static final String GRPC_CORE_AGENT = "grpc-c/";

	private volatile boolean grpcCore;

	/** How to close it gracefully for an operator's drain: the frame observer; {@code null} without one. */
	private volatile @Nullable GracefulClose gracefulClose;

	/** Set once, when the connection closes: everything about the close in one publication. */
	private volatile @Nullable Closed closed;

	/** The server calls in flight, for the shutdown and for the close; {@code null} for a channel's connection. */
	private final @Nullable ServerCalls serverCalls;

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
		this.serverCalls = (tracker.side == Side.SERVER) ? new ServerCalls() : null;
	}

	/** Marks the record as fed by a frame observer, so that PING figures are meaningful. */
	public void observed() {
		this.observed = true;
	}

	/** The frame observer can close this (server) connection gracefully when an operator drains it. */
	public void closableBy(GracefulClose close) {
		this.gracefulClose = close;
	}

	/**
	 * An operator drains this connection: its close reason becomes {@code drained} (unless a
	 * reason of higher precedence has evidence) and the transport's graceful close starts.
	 * @param grace how long its calls in flight get
	 */
	DrainResult drain(Duration grace) {
		GracefulClose close = this.gracefulClose;
		if (this.closed != null) {
			return DrainResult.NOT_OPEN;
		}
		if (close == null) {
			return DrainResult.NOT_DRAINABLE;
		}
		int drained = CloseReasons.evidence(CloseReason.DRAINED);
		// the evidence first, so that a close racing the GOAWAY has its reason; and once only
		if (this.draining || ((int) EVIDENCE.getAndBitwiseOr(this, drained) & drained) != 0) {
			return DrainResult.ALREADY_DRAINING;
		}
		// draining from now on, not from the GOAWAY on the event loop: the next rebalance leaves it out
		this.draining = true;
		close.start(grace);
		return DrainResult.DRAINING;
	}

	/** The frame observer gave up on this connection (bytes that are not HTTP/2). */
	public void observerOff(String reason) {
		this.observerOffReason = reason;
		addEvidence(CloseReason.ERROR);
	}

	/** A server call started; returns when, on the tracker's ticker. */
	long callStarted() {
		long now = this.tracker.nanoTime();
		this.lastActivityNanos = now;
		if (this.activeCalls == 0) {
			// before the count: a reader that sees calls sees when they began, or a later time
			this.callsSinceNanos = now;
		}
		ACTIVE_CALLS.getAndAdd(this, 1);
		TOTAL_CALLS.getAndAdd(this, 1L);
		this.tracker.statistics.serverCallStarted();
		return now;
	}

	/**
	 * Whether calls were in flight through the whole time since {@code sinceNanos}, without a
	 * moment with none: on this connection for the server, on the channel for a client (a
	 * channel counts calls per channel).
	 */
	public boolean callsThroughout(long sinceNanos) {
		ChannelCalls channelCalls = this.tracker.channelCalls;
		if (channelCalls != null) {
			return channelCalls.throughout(sinceNanos);
		}
		return this.activeCalls > 0 && this.callsSinceNanos - sinceNanos <= 0;
	}

	/** The frame observer that can tell, at the close, the silence the connection ended with. */
	public void silenceProbe(SilenceBeforeClose.Probe probe) {
		this.silenceProbe = probe;
	}

	/**
	 * A silence of {@code nanos} (no frame either way) ended with the peer's frames: the path
	 * carried the connection through it. For the advisor; see
	 * {@link ConnectionTrackerView.ConnectionListener#silenceSurvived}.
	 */
	public void silenceSurvived(long nanos, boolean withCalls) {
		this.tracker.listeners.silenceSurvived(this.id, nanos, withCalls);
	}

	void callEnded() {
		// the activity first: a reader that sees the count drop to 0 measures idle time from here
		this.lastActivityNanos = this.tracker.nanoTime();
		ACTIVE_CALLS.getAndAdd(this, -1);
		this.tracker.statistics.serverCallEnded();
	}

	/** A server call started: it can be closed for shutdown from now on, and at once if that has begun. */
	void register(ClosableServerCall<?, ?> call) {
		if (this.serverCalls != null) {
			this.serverCalls.register(call, this.tracker.shutdown);
		}
	}

	/** A server call ended. */
	void unregister(ClosableServerCall<?, ?> call) {
		if (this.serverCalls != null) {
			this.serverCalls.unregister(call);
		}
	}

	@Nullable ServerCalls serverCalls() {
		return this.serverCalls;
	}

	/**
	 * The client's {@code user-agent} header, as the first stream on the connection carried it
	 * (server side), whether or not the server has the method.
	 */
	void userAgentSeen(String userAgent) {
		if (this.userAgent == null) {
			// before the agent: a reader that sees the agent sees the flag
			this.grpcCore = userAgent.contains(GRPC_CORE_AGENT);
			this.userAgent = this.tracker.userAgents.share(userAgent);
		}
	}

	/** Whether the client's {@code user-agent} is known yet. */
	public boolean isUserAgentKnown() {
		return this.userAgent != null;
	}

	/**
	 * Whether the client is gRPC C-core (Python, C++, Ruby, PHP, Objective-C), whose user agent
	 * names {@value #GRPC_CORE_AGENT}: its PINGs carry sequence numbers, so its BDP PINGs can
	 * only be told apart by when they come. {@code false} until the user agent is known.
	 */
	public boolean isGrpcCore() {
		return this.grpcCore;
	}

	/** Calls in flight on this connection (server side). */
	public int activeCalls() {
		return this.activeCalls;
	}

	/**
	 * The peer sent a PING (server side), with what grpc-java's keepalive enforcer makes of it;
	 * for the advisor. See {@link ConnectionTrackerView.ConnectionListener#peerPing}.
	 */
	public void peerPingObserved(PingKind kind, long intervalNanos, boolean withoutCalls, boolean strike,
			int strikes) {
		this.tracker.listeners.peerPing(this.id, this.userAgent, kind, intervalNanos, withoutCalls, strike, strikes);
	}

	/**
	 * This side sent a keepalive PING after {@code idleNanos} without reading a frame; for the
	 * advisor. See {@link ConnectionTrackerView.ConnectionListener#keepAlivePingSent}.
	 */
	public void keepAlivePingSentObserved(long idleNanos) {
		this.tracker.listeners.keepAlivePingSent(this.id, idleNanos);
	}

	/** This side sent a PING (not an ACK). */
	public void pingSent(PingKind kind) {
		this.pings.recordSent(kind);
		this.tracker.statistics.pings().recordSent(kind);
	}

	/** A PING this side sent was acknowledged after {@code roundTripNanos}. */
	public void pingAcked(PingKind kind, long roundTripNanos) {
		this.pings.recordAck(roundTripNanos);
		this.tracker.statistics.pings().recordAck(roundTripNanos);
		this.tracker.listeners.pingAcknowledged(kind, roundTripNanos);
	}

	/** The peer sent a PING (not an ACK). */
	public void pingReceived() {
		this.pings.recordReceived();
		this.tracker.statistics.pings().recordReceived();
	}

	/** A keepalive PING this side sent was not acknowledged within the keepalive timeout. */
	public void keepAliveTimedOut() {
		this.pings.recordTimeout();
		this.tracker.statistics.keepAliveTimedOut(this.tracker.nanoTime());
		addEvidence(CloseReason.KEEPALIVE_TIMEOUT);
	}

	/**
	 * This side sent a GOAWAY.
	 * @param errorCode the HTTP/2 error code
	 * @param debugData the debug data
	 * @param keepAliveOverdue whether a keepalive PING was overdue when it was sent
	 */
	public void goAwaySent(long errorCode, String debugData, boolean keepAliveOverdue) {
		CloseReason reason = CloseReasons.ofGoAwaySent(errorCode, debugData, keepAliveOverdue,
				this.tracker.shutdown.isStarted());
		this.lastGoAwaySent = goAway(GoAway.Direction.SENT, errorCode, debugData, reason);
		this.draining = true;
		if (reason == CloseReason.ABUSE) {
			abused(CloseReasons.abuseLimitOf(debugData));
		}
		else if (reason != null) {
			addEvidence(reason);
		}
	}

	/**
	 * An HTTP/2 abuse limit fired on this connection, and this side closes it.
	 * @param limit the limit, as its property suffix such as {@code max-settings-frames}
	 */
	public void abused(String limit) {
		if (this.abuseLimit == null) {
			this.abuseLimit = limit;
		}
		addEvidence(CloseReason.ABUSE);
	}

	/** The peer sent a GOAWAY. */
	public void goAwayReceived(long errorCode, String debugData) {
		CloseReason reason = CloseReasons.ofGoAwayReceived(errorCode, debugData);
		if (reason == CloseReason.TOO_MANY_PINGS) {
			this.tracker.keepAliveBackoff.tooManyPingsReceived(this.openedNanos, this.tracker.nanoTime());
		}
		this.lastGoAwayReceived = goAway(GoAway.Direction.RECEIVED, errorCode, debugData, reason);
		this.draining = true;
		addEvidence(CloseReasons.evidenceOfGoAwayReceived(reason));
	}

	private GoAway goAway(GoAway.Direction direction, long errorCode, String debugData, @Nullable CloseReason reason) {
		GoAway goAway = new GoAway(direction, errorCode, debugData, reason, this.tracker.currentTimeMillis());
		this.tracker.statistics.goAway(goAway, this.tracker.nanoTime());
		return goAway;
	}

	/** After a keepalive timeout, the starter made sure the socket is released (abortive close). */
	public void socketReleasedByStarter() {
		this.socketReleasedByStarter = true;
	}

	/**
	 * This side closed the connection before the peer completed the HTTP/2 handshake, as
	 * grpc-java's server does at its handshake timeout: an error, unless the application is
	 * shutting down.
	 */
	public void closedBeforeHandshake() {
		if (!this.tracker.shutdown.isStarted()) {
			addEvidence(CloseReason.ERROR);
		}
	}

	/** Notes an error on the connection, for the close reason. */
	public void errorSeen() {
		addEvidence(CloseReason.ERROR);
	}

	private void addEvidence(CloseReason reason) {
		EVIDENCE.getAndBitwiseOr(this, CloseReasons.evidence(reason));
	}

	/** Closes the record, deciding its close reason from the evidence; only the first call counts. */
	public void close() {
		if (this.closed != null) {
			return;
		}
		long nanos = this.tracker.nanoTime();
		CloseReason reason = CloseReasons.decide(this.evidence);
		if (reason == null) {
			long age = nanos - this.openedNanos;
			long idle = Math.max(0, nanos - this.lastActivityNanos);
			reason = this.tracker.inferCloseReason(this.activeCalls, Math.min(idle, age), age);
		}
		SilenceBeforeClose.Probe probe = this.silenceProbe;
		SilenceBeforeClose silence = null;
		if (probe != null && this.observerOffReason == null) {
			try {
				silence = probe.at(this, nanos, reason);
			}
			catch (RuntimeException ex) {
				// a measurement, never a reason to keep a close from being recorded
			}
		}
		List<Duration> unfinished = (this.serverCalls != null) ? this.serverCalls.unfinishedAt(nanos) : List.of();
		Closed close = new Closed(nanos, this.tracker.currentTimeMillis(), reason, silence, unfinished);
		if (CLOSED.compareAndSet(this, null, close)) {
			this.tracker.closed(this);
		}
	}

	/** The id as it appears in the endpoint: {@code s-42} for the server, {@code c-<channel>-42} for a channel. */
	public String displayId() {
		return this.tracker.idPrefix() + this.id;
	}

	long id() {
		return this.id;
	}

	@Nullable SocketAddress remote() {
		return this.remote;
	}

	@Nullable SocketAddress local() {
		return this.local;
	}

	boolean isClosed() {
		return this.closed != null;
	}

	/** Why it closed, once closed. */
	@Nullable CloseReason closeReason() {
		Closed close = this.closed;
		return (close != null) ? close.reason() : null;
	}

	/** Whether a frame observer watched this connection and still does. */
	public boolean isObserved() {
		return this.observed && this.observerOffReason == null;
	}

	/** The connection now, read consistently: see the class comment. */
	public ConnectionSnapshot snapshot() {
		Closed close = this.closed;
		// The count before the activity, the reverse of the writers, who move the activity before
		// they lower the count: a count of 0 comes with the activity of the call that ended last,
		// or a later one. The time in between, where a test's ticker can end a call.
		int calls = this.activeCalls;
		long end = (close != null) ? close.nanos() : this.tracker.nanoTime();
		long lastActivity = this.lastActivityNanos;
		boolean draining = this.draining;
		long age = Math.max(0, end - this.openedNanos);
		// 0 when the activity is newer than the time read (a call started and ended since), or
		// than the close (grpc-java ends calls after the transport terminated)
		long idle = (calls > 0) ? 0 : Math.min(age, Math.max(0, end - lastActivity));
		boolean server = this.tracker.side == Side.SERVER;
		return new ConnectionSnapshot(displayId(), this.tracker.side, this.tracker.name, this.remote, this.local,
				this.openedAtMillis, age, idle, calls, this.totalCalls, state(close, draining, calls, server),
				isObserved(), this.observerOffReason, this.pings.snapshot(), this.lastGoAwaySent,
				this.lastGoAwayReceived, this.socketReleasedByStarter, this.abuseLimit,
				(close != null) ? close.reason() : null, (close != null) ? close.atMillis() : null,
				(close != null) ? close.silence() : null, (close != null) ? close.unfinishedCalls() : List.of());
	}

	/**
	 * Whether the open connection passes the query's filters at {@code nowNanos}, read as
	 * {@link #snapshot()} reads (the count before the activity) without making one: a page
	 * walks many connections and keeps few. A closed one never does.
	 */
	boolean matches(ConnectionQuery query, long nowNanos) {
		if (this.closed != null) {
			return false;
		}
		int calls = this.activeCalls;
		long lastActivity = this.lastActivityNanos;
		long age = Math.max(0, nowNanos - this.openedNanos);
		long idle = (calls > 0) ? 0 : Math.min(age, Math.max(0, nowNanos - lastActivity));
		return query.matches(state(null, this.draining, calls, this.tracker.side == Side.SERVER), age, idle,
				this.userAgent, this.remote);
	}

	private ConnectionState state(@Nullable Closed close, boolean draining, int calls, boolean server) {
		if (close != null) {
			return ConnectionState.CLOSED;
		}
		if (draining) {
			return ConnectionState.DRAINING;
		}
		// A channel does not know which of its connections a call uses: it counts calls per channel.
		int active = server ? calls : this.tracker.activeCalls();
		return (active > 0) ? ConnectionState.ACTIVE : ConnectionState.IDLE;
	}

	/** Everything about the close, published at once. */
	private record Closed(long nanos, long atMillis, CloseReason reason, @Nullable SilenceBeforeClose silence,
			List<Duration> unfinishedCalls) {
	}

}
