package dev.grpckeepalive.transport;

import java.net.SocketAddress;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

/**
 * What the starter logs when a client misbehaves, condensed: a reconnecting attacker, or a
 * proxy that repeats the same protocol error, must not turn each connection or frame into a
 * log line. The first event of a kind is logged at once; after that, at most one WARN per
 * {@link #INTERVAL} with the count and the last example. Safe from any event loop: no lock,
 * one compare-and-set per event.
 */
final class AbuseLog {

	/** At most one line per this interval and kind. */
	public static final Duration INTERVAL = Duration.ofMinutes(1);

	private static final Log logger = LogFactory.getLog(AbuseLog.class);

	private static final AbuseLog closes = new AbuseLog(System::nanoTime);

	private static final AbuseLog ignoredResets = new AbuseLog(System::nanoTime);

	private final LongSupplier ticker;

	private final AtomicLong lastLogNanos;

	private final AtomicLong sinceLog = new AtomicLong();

	private final AtomicLong total = new AtomicLong();

	AbuseLog(LongSupplier ticker) {
		this.ticker = ticker;
		this.lastLogNanos = new AtomicLong(ticker.getAsLong() - INTERVAL.toNanos());
	}

	/** A connection was closed by an abuse limit. */
	public static void closed(String limit, String connectionId, SocketAddress remote) {
		long count = closes.due();
		if (count > 0) {
			logger.warn(count + " connection(s) closed by an HTTP/2 abuse limit in the last " + INTERVAL.toSeconds()
					+ "s (" + closes.total.get() + " since start), the latest " + connectionId + " from " + remote
					+ ": grpc.keepalive.server.limits." + limit + " (close reason abuse; see docs/security.md). "
					+ "Further closes are counted and logged at most once per " + INTERVAL.toSeconds() + "s.");
		}
	}

	/**
	 * A client reset a stream it never opened (stream 0, or one above the highest it opened),
	 * a protocol error that Netty answers by closing the whole connection, and the frame
	 * observer had it ignored instead.
	 */
	public static void ignoredReset(int streamId, String connectionId, @Nullable SocketAddress remote) {
		long count = ignoredResets.due();
		if (count > 0) {
			logger.warn(count + " RST_STREAM frame(s) for streams the client never opened ignored in the last "
					+ INTERVAL.toSeconds() + "s (" + ignoredResets.total.get() + " since start), the latest for stream "
					+ streamId + " on connection " + connectionId + " from " + remote + ": a protocol error that "
					+ "HAProxy 2.6 and gRPC C-core 1.51 make under load, which would otherwise close the connection "
					+ "and fail every call on it (see docs/interop.md). Logged at most once per "
					+ INTERVAL.toSeconds() + "s.");
		}
	}

	/** Counts one event; returns the events to report in a line now, or 0 when this one is only counted. */
	long due() {
		this.total.incrementAndGet();
		long count = this.sinceLog.incrementAndGet();
		long now = this.ticker.getAsLong();
		long last = this.lastLogNanos.get();
		if (now - last < INTERVAL.toNanos() || !this.lastLogNanos.compareAndSet(last, now)) {
			return 0;
		}
		this.sinceLog.addAndGet(-count);
		return count;
	}

}
