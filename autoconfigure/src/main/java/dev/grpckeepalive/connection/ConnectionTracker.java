package dev.grpckeepalive.connection;

import java.net.SocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

import io.grpc.Attributes;
import io.grpc.Grpc;
import io.grpc.Status;
import org.jspecify.annotations.Nullable;

/**
 * The connections of the server, or of one channel: the open ones, a bounded history of
 * recently closed ones, and totals (opened, closed by reason, PINGs, GOAWAYs). A record is
 * opened by whichever sees the connection first, the frame observer (socket active) or
 * grpc-java's transport filter (transport ready), and found by its address pair by the
 * other.
 *
 * <p>The starter's writer side: applications read it as a {@link ConnectionTrackerView}, and
 * its connections as {@link ConnectionSnapshot}s. Closed connections are kept as their final
 * snapshot.
 *
 * <p>Time comes from an injected ticker and clock, so that timing logic can be tested
 * without waiting.
 */
public final class ConnectionTracker implements ConnectionTrackerView {

	/** How many distinct user agents {@link #sharedUserAgent} keeps (the advisor's table has the same cap). */
	static final int MAX_SHARED_USER_AGENTS = 64;

	/** How many closed connections the history keeps. */
	public static final int DEFAULT_HISTORY_SIZE = 100;

	private final AtomicLong ids = new AtomicLong();

	private final Side side;

	private final String name;

	private final @Nullable Duration maxConnectionIdle;

	private final @Nullable Duration maxConnectionAge;

	private final LongSupplier ticker;

	private final Clock clock;

	private final int historySize;

	/** Open connections by address pair; by the record itself where the addresses are unknown. */
	private final Map<Object, ConnectionRecord> open = new ConcurrentHashMap<>();

	private final ArrayDeque<ConnectionSnapshot> history = new ArrayDeque<>();

	private final LongAdder opened = new LongAdder();

	private final LongAdder refused = new LongAdder();

	private final Map<CloseReason, LongAdder> closed = new EnumMap<>(CloseReason.class);

	private final PingStatistics pings = new PingStatistics();

	private final Map<GoAway.Direction, Map<String, LongAdder>> goAways = new EnumMap<>(GoAway.Direction.class);

	private final AtomicInteger activeCalls = new AtomicInteger();

	/** When the calls in flight now began to be in flight without a break (channels only). */
	private volatile long callsSinceNanos;

	/**
	 * The listeners, replaced as a whole when one is added (rarely, at startup): notifying
	 * them, once per PING on a busy connection, iterates an array and allocates nothing.
	 */
	private volatile ConnectionListener[] listeners = new ConnectionListener[0];

	/** User agents seen, so that connections of the same client share one string; bounded. */
	private final Map<String, String> userAgents = new ConcurrentHashMap<>();

	private volatile boolean framesObserved;

	private volatile boolean shuttingDown;

	private volatile @Nullable Status callsClosingStatus;

	private volatile long lastKeepAliveTimeoutNanos = Long.MIN_VALUE;

	private volatile long lastTooManyPingsNanos = Long.MIN_VALUE;

	private volatile long permitTimeNanos = Duration.ofMinutes(5).toNanos();

	private volatile boolean permitWithoutCalls;

	/** How often grpc-java doubled this channel's keepalive time, see {@link #tooManyPingsReceived}. */
	private final AtomicInteger keepAliveBackoffs = new AtomicInteger();

	private volatile long lastKeepAliveBackoffNanos = Long.MIN_VALUE;

	public ConnectionTracker(Side side, String name, @Nullable Duration maxConnectionIdle,
			@Nullable Duration maxConnectionAge, LongSupplier ticker, Clock clock, int historySize) {
		this.side = side;
		this.name = name;
		this.maxConnectionIdle = maxConnectionIdle;
		this.maxConnectionAge = maxConnectionAge;
		this.ticker = ticker;
		this.clock = clock;
		this.historySize = historySize;
		for (CloseReason reason : CloseReason.values()) {
			this.closed.put(reason, new LongAdder());
		}
		for (GoAway.Direction direction : GoAway.Direction.values()) {
			this.goAways.put(direction, new ConcurrentHashMap<>());
		}
	}

	/** The count of connections closed for {@code reason}: the constructor put one in for every reason. */
	private LongAdder closedCount(CloseReason reason) {
		return Objects.requireNonNull(this.closed.get(reason));
	}

	/** The GOAWAY counts of {@code direction} by reason tag: the constructor put them in for both directions. */
	private Map<String, LongAdder> goAwayCounts(GoAway.Direction direction) {
		return Objects.requireNonNull(this.goAways.get(direction));
	}

	/** A tracker on the system ticker and clock. */
	public static ConnectionTracker create(Side side, String name, @Nullable Duration maxConnectionIdle,
			@Nullable Duration maxConnectionAge) {
		return new ConnectionTracker(side, name, maxConnectionIdle, maxConnectionAge, System::nanoTime,
				Clock.systemUTC(), DEFAULT_HISTORY_SIZE);
	}

	/**
	 * The record of the connection between these addresses, opened now if nobody has yet.
	 * @param remote the peer's address
	 * @param local this side's address
	 * @return the record
	 */
	public ConnectionRecord connectionOpened(@Nullable SocketAddress remote, @Nullable SocketAddress local) {
		if (remote == null && local == null) {
			ConnectionRecord record = newRecord(null, null);
			this.open.put(record, record);
			this.opened.increment();
			return record;
		}
		AddressPair key = new AddressPair(remote, local);
		ConnectionRecord[] created = new ConnectionRecord[1];
		ConnectionRecord record = this.open.compute(key, (pair, existing) -> {
			if (existing != null && !existing.isClosed()) {
				return existing;
			}
			created[0] = newRecord(remote, local);
			return created[0];
		});
		if (record == created[0]) {
			this.opened.increment();
		}
		return record;
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

	private ConnectionRecord newRecord(@Nullable SocketAddress remote, @Nullable SocketAddress local) {
		return new ConnectionRecord(this.ids.incrementAndGet(), this, remote, local, currentTimeMillis(), nanoTime());
	}

	void closed(ConnectionRecord record) {
		Object key = (record.remote() == null && record.local() == null) ? record
				: new AddressPair(record.remote(), record.local());
		this.open.remove(key, record);
		ConnectionSnapshot last = record.snapshot();
		CloseReason reason = Objects.requireNonNull(last.closeReason());
		closedCount(reason).increment();
		if (reason == CloseReason.TOO_MANY_PINGS) {
			this.lastTooManyPingsNanos = nanoTime();
		}
		synchronized (this.history) {
			if (this.history.size() == this.historySize) {
				this.history.removeFirst();
			}
			this.history.addLast(last);
		}
		for (ConnectionListener listener : this.listeners) {
			listener.connectionClosed(this, last);
		}
	}

	/** The reason for a close that no event explained, see {@link CloseReasons#inferred}. */
	CloseReason inferCloseReason(int activeCalls, long idleNanos, long ageNanos) {
		return CloseReasons.inferred(this.shuttingDown, activeCalls, idleNanos, ageNanos,
				(this.maxConnectionIdle != null) ? this.maxConnectionIdle.toNanos() : -1,
				(this.maxConnectionAge != null) ? this.maxConnectionAge.toNanos() : -1);
	}

	/** A call started; on the client side calls are counted per channel only. */
	void callStarted() {
		if (this.side == Side.CLIENT && this.activeCalls.get() == 0) {
			// before the count: a reader that sees calls sees when they began, or a later time
			this.callsSinceNanos = nanoTime();
		}
		this.activeCalls.incrementAndGet();
	}

	/** Whether the channel had calls in flight through the whole time since {@code sinceNanos}. */
	boolean callsThroughout(long sinceNanos) {
		return this.activeCalls.get() > 0 && this.callsSinceNanos - sinceNanos <= 0;
	}

	void callEnded() {
		this.activeCalls.decrementAndGet();
	}

	void pingSent(PingKind kind) {
		this.pings.recordSent(kind);
	}

	void pingReceived() {
		this.pings.recordReceived();
	}

	void pingAcked(PingKind kind, long roundTripNanos) {
		this.pings.recordAck(roundTripNanos);
		for (ConnectionListener listener : this.listeners) {
			listener.pingAcknowledged(this, kind, roundTripNanos);
		}
	}

	void keepAliveTimedOut() {
		this.pings.recordTimeout();
		this.lastKeepAliveTimeoutNanos = nanoTime();
	}

	void goAway(GoAway goAway) {
		goAwayCounts(goAway.direction())
			.computeIfAbsent(goAway.reasonTag(), (reason) -> new LongAdder())
			.increment();
		if (goAway.reason() == CloseReason.TOO_MANY_PINGS) {
			this.lastTooManyPingsNanos = nanoTime();
		}
	}

	/**
	 * A GOAWAY {@code too_many_pings} arrived on a connection opened at {@code openedNanos}.
	 * grpc-java's channel then doubles its keepalive time for the connections it opens next,
	 * once per generation of connections: a GOAWAY on a connection opened before the last
	 * doubling does not double it again.
	 */
	synchronized void tooManyPingsReceived(long openedNanos) {
		long last = this.lastKeepAliveBackoffNanos;
		if (last == Long.MIN_VALUE || openedNanos - last >= 0) {
			this.keepAliveBackoffs.incrementAndGet();
			this.lastKeepAliveBackoffNanos = nanoTime();
		}
	}

	@Override
	public int keepAliveBackoffs() {
		return this.keepAliveBackoffs.get();
	}

	/**
	 * The PING policy the server enforces, so that the frame observer can count strikes as
	 * grpc-java's keepalive enforcer does. Until set: gRPC's defaults, 5m without calls refused.
	 * @param permitTime the server's effective permit-time
	 * @param permitWithoutCalls the server's permit-without-calls
	 */
	public void enforcedPingPolicy(Duration permitTime, boolean permitWithoutCalls) {
		this.permitTimeNanos = saturatedNanos(permitTime);
		this.permitWithoutCalls = permitWithoutCalls;
	}

	/** The server's permit-time in nanoseconds, see {@link #enforcedPingPolicy}. */
	public long permitTimeNanos() {
		return this.permitTimeNanos;
	}

	/** The server's permit-without-calls, see {@link #enforcedPingPolicy}. */
	public boolean permitWithoutCalls() {
		return this.permitWithoutCalls;
	}

	/**
	 * One shared instance of a client's user agent, for its connections to hold: the first
	 * {@value #MAX_SHARED_USER_AGENTS} distinct agents are kept, later ones are not shared.
	 */
	String sharedUserAgent(String userAgent) {
		String shared = this.userAgents.get(userAgent);
		if (shared != null) {
			return shared;
		}
		if (this.userAgents.size() >= MAX_SHARED_USER_AGENTS) {
			return userAgent;
		}
		shared = this.userAgents.putIfAbsent(userAgent, userAgent);
		return (shared != null) ? shared : userAgent;
	}

	void peerPing(long connection, @Nullable String userAgent, PingKind kind, long intervalNanos,
			boolean withoutCalls, boolean strike, int strikes) {
		for (ConnectionListener listener : this.listeners) {
			listener.peerPing(this, connection, userAgent, kind, intervalNanos, withoutCalls, strike, strikes);
		}
	}

	void silenceSurvived(long connection, long nanos, boolean withCalls) {
		for (ConnectionListener listener : this.listeners) {
			listener.silenceSurvived(this, connection, nanos, withCalls);
		}
	}

	void keepAlivePingSent(long connection, long idleNanos) {
		for (ConnectionListener listener : this.listeners) {
			listener.keepAlivePingSent(this, connection, idleNanos);
		}
	}

	@Override
	public String connectionId(long number) {
		return idPrefix() + number;
	}

	/** Marks the start of an orderly shutdown by this application: closes from now on are {@code app_requested}. */
	public void shutdownStarted() {
		this.shuttingDown = true;
	}

	boolean isShuttingDown() {
		return this.shuttingDown;
	}

	/**
	 * Closes every server call still in flight on this tracker's connections with
	 * {@code status}, and calls that start from now on as soon as they start. For a stopping
	 * server whose shutdown grace has run out, before grpc-java's {@code shutdownNow()}: the
	 * clients get this status rather than a stream reset. Never blocks on a call; a call the
	 * application is using at the moment is closed as soon as that use returns.
	 * @param status the status the clients get
	 * @return how many calls were in flight
	 */
	public int closeCallsForShutdown(Status status) {
		this.callsClosingStatus = status;
		int closed = 0;
		for (ConnectionRecord record : this.open.values()) {
			closed += record.closeCallsForShutdown(status);
		}
		return closed;
	}

	@Nullable Status callsClosingStatus() {
		return this.callsClosingStatus;
	}

	/** Records that a frame observer watches this tracker's connections. */
	public void framesObserved() {
		this.framesObserved = true;
	}

	@Override
	public boolean isFramesObserved() {
		return this.framesObserved;
	}

	@Override
	public void addListener(ConnectionListener listener) {
		synchronized (this) {
			ConnectionListener[] current = this.listeners;
			ConnectionListener[] added = Arrays.copyOf(current, current.length + 1);
			added[current.length] = listener;
			this.listeners = added;
		}
	}

	@Override
	public Side side() {
		return this.side;
	}

	@Override
	public String name() {
		return this.name;
	}

	String idPrefix() {
		return (this.side == Side.SERVER) ? "s-" : "c-" + this.name + "-";
	}

	@Override
	public List<ConnectionSnapshot> openConnections() {
		List<ConnectionRecord> records = new ArrayList<>(this.open.values());
		records.sort((a, b) -> Long.compare(a.id(), b.id()));
		List<ConnectionSnapshot> snapshots = new ArrayList<>(records.size());
		records.forEach((record) -> snapshots.add(record.snapshot()));
		return snapshots;
	}

	@Override
	public List<ConnectionSnapshot> recentlyClosed() {
		synchronized (this.history) {
			return List.copyOf(this.history);
		}
	}

	@Override
	public Optional<ConnectionSnapshot> find(String id) {
		for (ConnectionRecord record : this.open.values()) {
			if (record.displayId().equals(id)) {
				return Optional.of(record.snapshot());
			}
		}
		for (ConnectionSnapshot closed : recentlyClosed()) {
			if (closed.id().equals(id)) {
				return Optional.of(closed);
			}
		}
		return Optional.empty();
	}

	@Override
	public int activeConnections() {
		return this.open.size();
	}

	@Override
	public long openedConnections() {
		return this.opened.sum();
	}

	/** The server refused a connection at accept, over its cap on open connections. */
	public void connectionRefused() {
		this.refused.increment();
	}

	@Override
	public long refusedConnections() {
		return this.refused.sum();
	}

	@Override
	public long closedConnections(CloseReason reason) {
		return closedCount(reason).sum();
	}

	@Override
	public int activeCalls() {
		return this.activeCalls.get();
	}

	@Override
	public PingStatistics pings() {
		return this.pings;
	}

	@Override
	public Map<String, Long> goAways(GoAway.Direction direction) {
		Map<String, Long> result = new TreeMap<>();
		goAwayCounts(direction).forEach((reason, count) -> result.put(reason, count.sum()));
		return Collections.unmodifiableMap(result);
	}

	@Override
	public long goAwayCount(GoAway.Direction direction, String reasonTag) {
		LongAdder count = goAwayCounts(direction).get(reasonTag);
		return (count != null) ? count.sum() : 0;
	}

	@Override
	public boolean keepAliveTimeoutWithin(Duration window) {
		return within(this.lastKeepAliveTimeoutNanos, window);
	}

	@Override
	public boolean tooManyPingsWithin(Duration window) {
		return within(this.lastTooManyPingsNanos, window);
	}

	private boolean within(long eventNanos, Duration window) {
		return eventNanos != Long.MIN_VALUE && nanoTime() - eventNanos <= window.toNanos();
	}

	private static long saturatedNanos(Duration duration) {
		try {
			return duration.toNanos();
		}
		catch (ArithmeticException ex) {
			return Long.MAX_VALUE;
		}
	}

	long nanoTime() {
		return this.ticker.getAsLong();
	}

	long currentTimeMillis() {
		return this.clock.millis();
	}

	private record AddressPair(@Nullable SocketAddress remote, @Nullable SocketAddress local) {
	}

}
