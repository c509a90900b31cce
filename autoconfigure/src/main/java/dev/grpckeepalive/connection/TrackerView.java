package dev.grpckeepalive.connection;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.IntSupplier;
import java.util.function.LongSupplier;

/**
 * The read-only view of one server's or channel's connections that the application gets:
 * it reads the registry and the totals, and subscribes listeners; nothing in it writes.
 */
final class TrackerView implements ConnectionTrackerView {

	private final Side side;

	private final String name;

	private final ConnectionRegistry registry;

	private final ConnectionStatistics statistics;

	private final IntSupplier activeCalls;

	private final KeepAliveBackoff backoff;

	private final LongSupplier ticker;

	private final ConnectionListeners listeners = new ConnectionListeners(this);

	TrackerView(Side side, String name, ConnectionRegistry registry, ConnectionStatistics statistics,
			IntSupplier activeCalls, KeepAliveBackoff backoff, LongSupplier ticker) {
		this.side = side;
		this.name = name;
		this.registry = registry;
		this.statistics = statistics;
		this.activeCalls = activeCalls;
		this.backoff = backoff;
		this.ticker = ticker;
	}

	/** The listener bus whose events name this view as their source. */
	ConnectionListeners listeners() {
		return this.listeners;
	}

	@Override
	public Side side() {
		return this.side;
	}

	@Override
	public String name() {
		return this.name;
	}

	@Override
	public boolean isFramesObserved() {
		return this.statistics.isFramesObserved();
	}

	@Override
	public List<ConnectionSnapshot> openConnections() {
		return this.registry.openConnections();
	}

	@Override
	public List<ConnectionSnapshot> openConnections(ConnectionQuery query) {
		return this.registry.openConnections(query, this.ticker.getAsLong());
	}

	@Override
	public List<ConnectionSnapshot> recentlyClosed() {
		return this.registry.recentlyClosed();
	}

	@Override
	public Optional<ConnectionSnapshot> find(String id) {
		return this.registry.find(id);
	}

	@Override
	public int activeConnections() {
		return this.registry.activeConnections();
	}

	@Override
	public long openedConnections() {
		return this.registry.openedConnections();
	}

	@Override
	public long refusedConnections() {
		return this.statistics.refusedCount();
	}

	@Override
	public long closedConnections(CloseReason reason) {
		return this.statistics.closedCount(reason);
	}

	@Override
	public int activeCalls() {
		return this.activeCalls.getAsInt();
	}

	@Override
	public PingStatistics pings() {
		return this.statistics.pings();
	}

	@Override
	public Map<String, Long> goAways(GoAway.Direction direction) {
		return this.statistics.goAways(direction);
	}

	@Override
	public long goAwayCount(GoAway.Direction direction, String reasonTag) {
		return this.statistics.goAwayCount(direction, reasonTag);
	}

	@Override
	public boolean keepAliveTimeoutWithin(Duration window) {
		return within(this.statistics.lastKeepAliveTimeoutNanos(), window);
	}

	@Override
	public boolean tooManyPingsWithin(Duration window) {
		return within(this.statistics.lastTooManyPingsNanos(), window);
	}

	private boolean within(long eventNanos, Duration window) {
		return eventNanos != Long.MIN_VALUE && this.ticker.getAsLong() - eventNanos <= window.toNanos();
	}

	@Override
	public int keepAliveBackoffs() {
		return this.backoff.doublings();
	}

	@Override
	public String connectionId(long number) {
		return this.registry.idPrefix() + number;
	}

	@Override
	public void addListener(ConnectionListener listener) {
		this.listeners.add(listener);
	}

}
