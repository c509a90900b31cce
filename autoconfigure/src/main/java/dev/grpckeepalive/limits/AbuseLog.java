package dev.grpckeepalive.limits;

import java.net.SocketAddress;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

/**
 * What the starter logs when an abuse limit closes a connection, condensed: a reconnecting
 * attacker must not turn each of its connections into a log line. The first close is logged
 * at once; after that, at most one WARN per {@link #INTERVAL} with the count and the last
 * example. Safe from any event loop: no lock, one compare-and-set per close.
 */
public final class AbuseLog {

	/** At most one line per this interval. */
	public static final Duration INTERVAL = Duration.ofMinutes(1);

	private static final Log logger = LogFactory.getLog(AbuseLog.class);

	private static final AbuseLog shared = new AbuseLog(System::nanoTime);

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
		shared.record(limit, connectionId, remote);
	}

	/** Whether a line was written for this close. */
	boolean record(String limit, String connectionId, SocketAddress remote) {
		this.total.incrementAndGet();
		long count = this.sinceLog.incrementAndGet();
		long now = this.ticker.getAsLong();
		long last = this.lastLogNanos.get();
		if (now - last < INTERVAL.toNanos() || !this.lastLogNanos.compareAndSet(last, now)) {
			return false;
		}
		this.sinceLog.addAndGet(-count);
		logger.warn(count + " connection(s) closed by an HTTP/2 abuse limit in the last " + INTERVAL.toSeconds()
				+ "s (" + this.total.get() + " since start), the latest " + connectionId + " from " + remote
				+ ": grpc.keepalive.server.limits." + limit + " (close reason abuse; see docs/security.md). "
				+ "Further closes are counted and logged at most once per " + INTERVAL.toSeconds() + "s.");
		return true;
	}

}
