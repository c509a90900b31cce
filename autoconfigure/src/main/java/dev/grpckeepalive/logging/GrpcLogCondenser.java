package dev.grpckeepalive.logging;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import java.util.logging.Filter;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

/**
 * Keeps a hostile client from turning grpc-java's logging into an amplifier. grpc-java logs
 * through java.util.logging, and some of its lines are written once per frame or per
 * connection of a misbehaving peer: grpc-java 1.84 logs
 * <ul>
 * <li>{@code NettyServerHandler} WARNING "Received unexpected ping ack. No ping outstanding"
 * for every PING ACK the server did not ask for (a flood: one line per frame);</li>
 * <li>{@code NettyServerHandler} WARNING "Stream Error" with the stack trace of the
 * stream exception, for every stream it resets with an error, such as each stream over
 * {@code max-concurrent-calls-per-connection} (REFUSED_STREAM);</li>
 * <li>{@code NettyServerTransport.connections} INFO "Transport failed" with the stack trace
 * of the HTTP/2 connection error, for every connection closed on a protocol error, such as
 * each connection of a CONTINUATION flood.</li>
 * </ul>
 * This {@link Filter}, installed on those loggers (shaded and unshaded names), lets the first
 * record of each kind through in every {@link #interval}, drops the rest, and logs one summary
 * line per kind and interval with the number dropped. A connection-level HTTP/2 error keeps its
 * message but loses its stack trace, which says nothing about a peer's bytes. Anything else
 * passes untouched, and a filter already on a logger keeps its say.
 *
 * <p>java.util.logging state is global to the JVM: {@link #acquire()} shares one condenser
 * among all servers of the JVM, installed while any of them holds it; {@link #close()}
 * restores the loggers as they were.
 */
public final class GrpcLogCondenser implements AutoCloseable {

	/** The loggers this condenser filters: grpc-netty-shaded's names first, then grpc-netty's. */
	public static final List<String> LOGGERS = List.of("io.grpc.netty.shaded.io.grpc.netty.NettyServerHandler",
			"io.grpc.netty.shaded.io.grpc.netty.NettyServerTransport.connections", "io.grpc.netty.NettyServerHandler",
			"io.grpc.netty.NettyServerTransport.connections");

	/** The default summary interval. */
	public static final Duration DEFAULT_INTERVAL = Duration.ofMinutes(1);

	/** Message texts that a peer can make grpc-java log once per frame, stream or connection. */
	private static final List<String> AMPLIFIED = List.of("Received unexpected ping ack", "Stream Error",
			"Transport failed");

	private static final Log logger = LogFactory.getLog(GrpcLogCondenser.class);

	private static @Nullable GrpcLogCondenser shared;

	private static int users;

	private final Duration interval;

	private final LongSupplier ticker;

	/** Strong references: java.util.logging keeps loggers only weakly, and would forget the filter with them. */
	private final List<Logger> loggers = new ArrayList<>();

	private final Map<Logger, @Nullable Filter> previousFilters = new ConcurrentHashMap<>();

	private final Map<String, Kind> kinds = new ConcurrentHashMap<>();

	private final @Nullable ScheduledExecutorService summaries;

	private GrpcLogCondenser(Duration interval, LongSupplier ticker, @Nullable ScheduledExecutorService summaries) {
		this.interval = interval;
		this.ticker = ticker;
		this.summaries = summaries;
	}

	/**
	 * Installs a condenser on grpc-java's loggers.
	 * @param interval how often to summarize what was dropped, and how often one record of each kind passes
	 * @return the installed condenser; close it to restore the loggers
	 */
	public static GrpcLogCondenser install(Duration interval) {
		ScheduledExecutorService summaries = Executors.newSingleThreadScheduledExecutor((task) -> {
			Thread thread = new Thread(task, "grpc-keepalive-log-condenser");
			thread.setDaemon(true);
			return thread;
		});
		GrpcLogCondenser condenser = new GrpcLogCondenser(interval, System::nanoTime, summaries);
		condenser.installFilters();
		long nanos = interval.toNanos();
		summaries.scheduleAtFixedRate(condenser::summarize, nanos, nanos, TimeUnit.NANOSECONDS);
		return condenser;
	}

	/**
	 * Holds the JVM's shared condenser, installing it for the first holder.
	 * @return the hold; closing it (once is enough) uninstalls the condenser after the last holder
	 */
	public static synchronized Hold acquire() {
		if (users++ == 0) {
			shared = install(DEFAULT_INTERVAL);
		}
		return new Hold();
	}

	private static synchronized void release() {
		if (--users == 0 && shared != null) {
			shared.close();
			shared = null;
		}
	}

	/** One holder's share of the JVM's condenser. */
	public static final class Hold implements AutoCloseable {

		private boolean closed;

		private Hold() {
		}

		@Override
		public synchronized void close() {
			if (!this.closed) {
				this.closed = true;
				release();
			}
		}

	}

	/** For tests: a condenser on a ticker of their own, summarizing only when told. */
	static GrpcLogCondenser installForTest(Duration interval, LongSupplier ticker) {
		GrpcLogCondenser condenser = new GrpcLogCondenser(interval, ticker, null);
		condenser.installFilters();
		return condenser;
	}

	private void installFilters() {
		for (String name : LOGGERS) {
			Logger target = Logger.getLogger(name);
			this.loggers.add(target);
			Filter previous = target.getFilter();
			if (previous != null) {
				this.previousFilters.put(target, previous);
			}
			target.setFilter((record) -> (previous == null || previous.isLoggable(record)) && admit(record));
		}
	}

	/** Records dropped so far, of every kind, since installation. */
	public long dropped() {
		return this.kinds.values().stream().mapToLong((kind) -> kind.droppedTotal.get()).sum();
	}

	boolean admit(LogRecord record) {
		String message = String.valueOf(record.getMessage());
		if (AMPLIFIED.stream().noneMatch(message::startsWith)) {
			return true;
		}
		Throwable thrown = record.getThrown();
		if (thrown != null && isHttp2Exception(thrown)) {
			// a peer's protocol error: the message tells it all, the stack trace is grpc-java's and Netty's own
			record.setMessage(message + ": " + thrown);
			record.setThrown(null);
		}
		String key = record.getLoggerName() + '\u0000' + record.getLevel() + '\u0000' + message + '\u0000'
				+ ((thrown != null) ? thrown.getClass().getName() : "");
		Kind kind = this.kinds.computeIfAbsent(key,
				(ignored) -> new Kind(record.getLoggerName(), record.getLevel().getName(), message));
		return kind.admit(this.ticker.getAsLong(), this.interval.toNanos());
	}

	/** Logs one line for each kind with records dropped since the last summary. */
	void summarize() {
		for (Kind kind : this.kinds.values()) {
			long dropped = kind.droppedSinceSummary.getAndSet(0);
			if (dropped > 0) {
				logger.warn("Suppressed " + dropped + " more " + kind.level + " record(s) '" + kind.message + "' from "
						+ kind.loggerName + " (one of a kind is logged per " + this.interval.toSeconds()
						+ "s: a misbehaving client repeats them; see docs/security.md)");
			}
		}
	}

	private static boolean isHttp2Exception(Throwable thrown) {
		for (Class<?> type = thrown.getClass(); type != null; type = type.getSuperclass()) {
			if (type.getName().endsWith(".handler.codec.http2.Http2Exception")) {
				return true;
			}
		}
		return false;
	}

	@Override
	public void close() {
		if (this.summaries != null) {
			this.summaries.shutdownNow();
		}
		for (Logger target : this.loggers) {
			target.setFilter(this.previousFilters.get(target));
		}
		summarize();
	}

	/** One kind of record: logger, level, message text and exception type. */
	private static final class Kind {

		private final String loggerName;

		private final String level;

		private final String message;

		private final AtomicLong windowStart = new AtomicLong(Long.MIN_VALUE);

		private final AtomicLong droppedSinceSummary = new AtomicLong();

		private final AtomicLong droppedTotal = new AtomicLong();

		Kind(String loggerName, String level, String message) {
			this.loggerName = loggerName;
			this.level = level;
			this.message = message;
		}

		/** The first record of each interval passes; the others are counted. */
		boolean admit(long now, long intervalNanos) {
			long start = this.windowStart.get();
			if ((start == Long.MIN_VALUE || now - start >= intervalNanos) && this.windowStart.compareAndSet(start, now)) {
				return true;
			}
			this.droppedSinceSummary.incrementAndGet();
			this.droppedTotal.incrementAndGet();
			return false;
		}

	}

}
