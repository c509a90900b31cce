package dev.grpckeepalive.connection;

import java.net.SocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.function.LongSupplier;

import io.grpc.Attributes;
import io.grpc.Grpc;
import org.jspecify.annotations.Nullable;

import dev.grpckeepalive.shutdown.Shutdown;

/**
 * The starter's writer side for the connections of the server, or of one channel: what its
 * transport filter, call counter and frame observer feed, put together from small parts: the
 * registry of open and recently closed connections ({@code ConnectionRegistry}), the totals
 * ({@code ConnectionStatistics}), the listener bus ({@code ConnectionListeners}), the
 * {@link PingPolicy} and the {@link Shutdown}. Applications never hold it: they read {@link #view()}, a separate
 * read-only object from which no writer can be reached.
 *
 * <p>Time comes from an injected ticker and clock, so that timing logic can be tested
 * without waiting.
 */
public final class ConnectionTracker {

	/** How many closed connections the history keeps. */
	public static final int DEFAULT_HISTORY_SIZE = 100;

	final Side side;

	final String name;

	private final @Nullable Duration maxConnectionIdle;

	private final @Nullable Duration maxConnectionAge;

	private final PingPolicy pingPolicy;

	private final LongSupplier ticker;

	private final Clock clock;

	final ConnectionRegistry registry;

	final ConnectionStatistics statistics = new ConnectionStatistics();

	/** A channel's calls, counted per channel; {@code null} for the server, which counts per connection. */
	final @Nullable ChannelCalls channelCalls;

	final KeepAliveBackoff keepAliveBackoff = new KeepAliveBackoff();

	final UserAgents userAgents = new UserAgents();

	final ConnectionListeners listeners;

	final Shutdown shutdown;

	private final TrackerView view;

	/**
	 * A tracker that judges client PINGs by gRPC's default policy: a channel's, or a test's.
	 * @see #ConnectionTracker(Side, String, Duration, Duration, PingPolicy, LongSupplier, Clock, int)
	 */
	public ConnectionTracker(Side side, String name, @Nullable Duration maxConnectionIdle,
			@Nullable Duration maxConnectionAge, LongSupplier ticker, Clock clock, int historySize) {
		this(side, name, maxConnectionIdle, maxConnectionAge, PingPolicy.GRPC_DEFAULTS, ticker, clock, historySize);
	}

	/**
	 * @param side the server's connections or a channel's
	 * @param name the channel name, or {@code server}
	 * @param maxConnectionIdle the server's max-connection-idle, for closes no frame explained
	 * @param maxConnectionAge the server's max-connection-age, likewise
	 * @param pingPolicy the PING policy the server enforces
	 * @param ticker the ticker that ages, idle times and round trips are measured on
	 * @param clock the clock of open and close times
	 * @param historySize how many closed connections to keep
	 */
	public ConnectionTracker(Side side, String name, @Nullable Duration maxConnectionIdle,
			@Nullable Duration maxConnectionAge, PingPolicy pingPolicy, LongSupplier ticker, Clock clock,
			int historySize) {
		this.side = side;
		this.name = name;
		this.maxConnectionIdle = maxConnectionIdle;
		this.maxConnectionAge = maxConnectionAge;
		this.pingPolicy = pingPolicy;
		this.ticker = ticker;
		this.clock = clock;
		this.registry = new ConnectionRegistry((side == Side.SERVER) ? "s-" : "c-" + name + "-", historySize);
		ChannelCalls calls = (side == Side.CLIENT) ? new ChannelCalls() : null;
		this.channelCalls = calls;
		this.view = new TrackerView(side, name, this.registry, this.statistics,
				(calls != null) ? calls::active : this.statistics::serverCalls, this.keepAliveBackoff, ticker);
		this.listeners = this.view.listeners();
		this.shutdown = new Shutdown((side == Side.SERVER) ? this.registry::serverCalls : List::of);
	}

	/** A tracker on the system ticker and clock that judges client PINGs by gRPC's defaults: a channel's. */
	public static ConnectionTracker create(Side side, String name, @Nullable Duration maxConnectionIdle,
			@Nullable Duration maxConnectionAge) {
		return create(side, name, maxConnectionIdle, maxConnectionAge, PingPolicy.GRPC_DEFAULTS);
	}

	/** A tracker on the system ticker and clock. */
	public static ConnectionTracker create(Side side, String name, @Nullable Duration maxConnectionIdle,
			@Nullable Duration maxConnectionAge, PingPolicy pingPolicy) {
		return new ConnectionTracker(side, name, maxConnectionIdle, maxConnectionAge, pingPolicy, System::nanoTime,
				Clock.systemUTC(), DEFAULT_HISTORY_SIZE);
	}

	/** The read-only view the application gets: no writer is reachable from it. */
	public ConnectionTrackerView view() {
		return this.view;
	}

	/** The PING policy the server enforces, for the frame observer's judgement of client PINGs. */
	public PingPolicy pingPolicy() {
		return this.pingPolicy;
	}

	/** The orderly shutdown of this server or channel, see {@link Shutdown}. */
	public Shutdown shutdown() {
		return this.shutdown;
	}

	/**
	 * The record of the connection between these addresses, opened now if nobody has yet.
	 * @param remote the peer's address
	 * @param local this side's address
	 * @return the record
	 */
	public ConnectionRecord connectionOpened(@Nullable SocketAddress remote, @Nullable SocketAddress local) {
		return this.registry.opened(remote, local, (id) -> new ConnectionRecord(id, this, remote, local,
				currentTimeMillis(), nanoTime()));
	}

	/**
	 * Drains one open connection, an operator's action: GOAWAY {@code drained}, then the close
	 * once its calls are done or after {@code grace}; its close reason is {@code drained}.
	 * Logs nothing: the operator's action logs once for all the connections it drains.
	 * @param id the connection's id, such as {@code s-42}
	 * @param grace how long its calls in flight get
	 * @return what was done
	 */
	public DrainResult drain(String id, Duration grace) {
		ConnectionRecord record = this.registry.openRecord(id);
		return (record != null) ? record.drain(grace) : DrainResult.NOT_OPEN;
	}

	/** The server refused a connection at accept, over its cap on open connections. */
	public void connectionRefused() {
		this.statistics.refused();
	}

	/** Records that a frame observer watches this tracker's connections. */
	public void framesObserved() {
		this.statistics.framesObserved();
	}

	/**
	 * A transport became ready: opens (or finds) its record and returns the transport
	 * attributes with the record added, for the server's and the channels' transport filters.
	 */
	Attributes transportReady(Attributes transportAttrs) {
		ConnectionRecord record = connectionOpened(transportAttrs.get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR),
				transportAttrs.get(Grpc.TRANSPORT_ATTR_LOCAL_ADDR));
		return transportAttrs.toBuilder().set(ConnectionRecord.ATTRIBUTE, record).build();
	}

	/** A transport terminated: closes its record, if it ever became ready. */
	static void transportTerminated(@Nullable Attributes transportAttrs) {
		ConnectionRecord record = (transportAttrs != null) ? transportAttrs.get(ConnectionRecord.ATTRIBUTE) : null;
		if (record != null) {
			record.close();
		}
	}

	/** A record closed: counted, kept in the history, and told to the listeners. */
	void closed(ConnectionRecord record) {
		ConnectionSnapshot last = record.snapshot();
		this.registry.closed(record, last);
		this.statistics.closed(Objects.requireNonNull(last.closeReason()), nanoTime());
		this.listeners.connectionClosed(last);
	}

	/** The reason for a close that no event explained, see {@link CloseReasons#inferred}. */
	CloseReason inferCloseReason(int activeCalls, long idleNanos, long ageNanos) {
		return CloseReasons.inferred(this.shutdown.isStarted(), activeCalls, idleNanos, ageNanos,
				(this.maxConnectionIdle != null) ? this.maxConnectionIdle.toNanos() : -1,
				(this.maxConnectionAge != null) ? this.maxConnectionAge.toNanos() : -1);
	}

	/** A call of a channel started; a channel counts its calls per channel. */
	void channelCallStarted() {
		Objects.requireNonNull(this.channelCalls, "a channel's tracker").started(nanoTime());
	}

	void channelCallEnded() {
		Objects.requireNonNull(this.channelCalls, "a channel's tracker").ended();
	}

	/** Calls in flight: on the channel for a client, over all connections for the server. */
	int activeCalls() {
		return this.view.activeCalls();
	}

	String idPrefix() {
		return this.registry.idPrefix();
	}

	long nanoTime() {
		return this.ticker.getAsLong();
	}

	long currentTimeMillis() {
		return this.clock.millis();
	}

}
