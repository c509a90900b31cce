package dev.grpckeepalive.operate;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiFunction;
import java.util.function.LongSupplier;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

import dev.grpckeepalive.config.DurationFormat;
import dev.grpckeepalive.connection.ConnectionTrackerView;
import dev.grpckeepalive.connection.DrainResult;
import dev.grpckeepalive.server.ObservedGrpcServer;

/**
 * An operator's actions on the server's connections, behind the {@code grpckeepalive}
 * endpoint's write operations: drain one connection, and rebalance. Each drain is grpc-java's
 * graceful close (GOAWAY {@code drained}, the calls in flight get the grace, close reason
 * {@code drained}). Each action is logged once, at INFO, saying what it does; never once per
 * connection.
 *
 * <p>One rebalance at a time: asking for another while one runs is refused
 * ({@link RebalanceRunningException}) until it is done or {@linkplain #cancel() cancelled}.
 * Its drains run on one daemon thread, started with the first rebalance and stopped by
 * {@link #close()}.
 */
public final class ConnectionOperations implements AutoCloseable {

	private static final Log logger = LogFactory.getLog(ConnectionOperations.class);

	/** How many ids the log line of a rebalance names; the answer names them all. */
	private static final int LOGGED_IDS = 10;

	private final ConnectionTrackerView connections;

	private final BiFunction<String, Duration, DrainResult> drain;

	private final Duration grace;

	private final LongSupplier ticker;

	private final Clock clock;

	private final @Nullable Scheduler scheduler;

	private @Nullable ScheduledThreadPoolExecutor executor;

	private final AtomicReference<@Nullable RunningRebalance> running = new AtomicReference<>();

	/**
	 * The operations on a server's connections.
	 * @param server the server
	 * @param grace how long the calls in flight of a drained connection get (the server's
	 * {@code shutdown-grace})
	 */
	public ConnectionOperations(ObservedGrpcServer server, Duration grace) {
		this(server.getConnections(), server::drain, grace, null, System::nanoTime, Clock.systemUTC());
	}

	/** With a scheduler and clocks of its own: tests. */
	ConnectionOperations(ConnectionTrackerView connections, BiFunction<String, Duration, DrainResult> drain,
			Duration grace, @Nullable Scheduler scheduler, LongSupplier ticker, Clock clock) {
		this.connections = connections;
		this.drain = drain;
		this.grace = grace;
		this.scheduler = scheduler;
		this.ticker = ticker;
		this.clock = clock;
	}

	/** How long the calls in flight of a drained connection get before it is closed. */
	public Duration grace() {
		return this.grace;
	}

	/**
	 * Drains one open connection: GOAWAY {@code drained} now, the close once its calls are
	 * done or after the {@linkplain #grace() grace}. Logs what it did (not when nothing was).
	 * @param id the connection's id, such as {@code s-42}
	 * @return what was done
	 */
	public DrainResult drain(String id) {
		DrainResult result = this.drain.apply(id, this.grace);
		if (result == DrainResult.DRAINING) {
			logger.info("Draining gRPC server connection " + id + " at an operator's request: GOAWAY drained sent; "
					+ "it closes once its calls in flight are done, within " + DurationFormat.format(this.grace));
		}
		return result;
	}

	/**
	 * Starts a rebalance: drains connections, oldest first, spread over the request's period.
	 * Logs what it will drain, once.
	 * @param request what to keep or shed, and over how long
	 * @return what it will drain, and when
	 * @throws RebalanceRunningException while another rebalance runs
	 * @throws IllegalStateException when the server's connections cannot be drained (frames not observed)
	 */
	public RebalancePlan rebalance(RebalanceRequest request) {
		if (!this.connections.isFramesObserved()) {
			throw new IllegalStateException("The server's connections cannot be drained without the frame observer: "
					+ "set grpc.keepalive.frames.enabled=true");
		}
		RebalancePlan plan;
		synchronized (this.running) {
			RunningRebalance current = this.running.get();
			if (current != null && current.isRunning()) {
				throw new RebalanceRunningException(current.progress());
			}
			plan = RebalancePlan.of(request, this.connections.openConnections(), this.clock.instant());
			RunningRebalance rebalance = new RunningRebalance(plan, (id) -> this.drain.apply(id, this.grace),
					scheduler(), this.ticker);
			this.running.set(rebalance);
			log(plan);
			rebalance.start();
		}
		return plan;
	}

	/**
	 * Cancels the rebalance that runs: the connections it drained stay drained, the others open.
	 * @return how far it came, or empty when none runs
	 */
	public Optional<RebalanceProgress> cancel() {
		synchronized (this.running) {
			RunningRebalance current = this.running.getAndSet(null);
			if (current == null || !current.isRunning()) {
				return Optional.empty();
			}
			RebalanceProgress progress = current.cancel();
			logger.info("Rebalance (" + progress.plan().request() + ") cancelled at an operator's request: "
					+ progress.drained() + " connection(s) drained, " + progress.remaining() + " left open");
			return Optional.of(progress);
		}
	}

	/** The rebalance that runs, if one does. */
	public Optional<RebalanceProgress> running() {
		RunningRebalance current = this.running.get();
		return (current != null && current.isRunning()) ? Optional.of(current.progress()) : Optional.empty();
	}

	private void log(RebalancePlan plan) {
		if (plan.count() == 0) {
			logger.info("Rebalance (" + plan.request() + ") at an operator's request: nothing to drain, "
					+ plan.open() + " connection(s) open");
			return;
		}
		List<String> ids = plan.ids();
		String named = String.join(", ", ids.subList(0, Math.min(LOGGED_IDS, ids.size())))
				+ ((ids.size() > LOGGED_IDS) ? ", ..." : "");
		logger.info("Rebalance (" + plan.request() + ") at an operator's request: draining " + plan.count() + " of "
				+ plan.open() + " connection(s), oldest first, one every " + DurationFormat.format(plan.interval())
				+ " over " + DurationFormat.format(plan.over()) + ", each with a grace of "
				+ DurationFormat.format(this.grace) + ": " + named);
	}

	private Scheduler scheduler() {
		if (this.scheduler != null) {
			return this.scheduler;
		}
		ScheduledThreadPoolExecutor executor = this.executor;
		if (executor == null) {
			executor = new ScheduledThreadPoolExecutor(1, (task) -> {
				Thread thread = new Thread(task, "grpc-keepalive-rebalance");
				thread.setDaemon(true);
				return thread;
			});
			executor.setRemoveOnCancelPolicy(true);
			this.executor = executor;
		}
		ScheduledThreadPoolExecutor scheduled = executor;
		return (task, delayNanos) -> {
			Future<?> future = scheduled.schedule(task, Math.max(0, delayNanos),
					TimeUnit.NANOSECONDS);
			return () -> future.cancel(false);
		};
	}

	/** Cancels the rebalance that runs, if any, and stops its thread. */
	@Override
	public void close() {
		synchronized (this.running) {
			RunningRebalance current = this.running.getAndSet(null);
			if (current != null) {
				current.cancel();
			}
			if (this.executor != null) {
				this.executor.shutdownNow();
			}
		}
	}

}
