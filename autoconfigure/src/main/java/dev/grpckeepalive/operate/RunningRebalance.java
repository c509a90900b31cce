package dev.grpckeepalive.operate;

import java.util.List;
import java.util.function.Function;
import java.util.function.LongSupplier;

import org.jspecify.annotations.Nullable;

import dev.grpckeepalive.connection.DrainResult;

/**
 * A rebalance under way: drains the connections of its {@link RebalancePlan} one by one, each
 * when its offset from the start is due on the ticker. One task is scheduled at a time, for
 * the next due drain; a task that runs late drains every drain that is due by then, so that a
 * stalled scheduler catches up instead of drifting. The work of each task is a drain or a few:
 * nothing per connection is held beyond the plan's ids.
 */
final class RunningRebalance {

	private final RebalancePlan plan;

	private final Function<String, DrainResult> drain;

	private final Scheduler scheduler;

	private final LongSupplier ticker;

	private final long startNanos;

	// guarded by this
	private int next;

	private int drained;

	private int gone;

	private boolean cancelled;

	private Scheduler.@Nullable Cancellable task;

	/**
	 * @param plan what to drain, and when
	 * @param drain drains one connection by id
	 * @param scheduler runs the drains
	 * @param ticker the time the offsets are measured on
	 */
	RunningRebalance(RebalancePlan plan, Function<String, DrainResult> drain, Scheduler scheduler,
			LongSupplier ticker) {
		this.plan = plan;
		this.drain = drain;
		this.scheduler = scheduler;
		this.ticker = ticker;
		this.startNanos = ticker.getAsLong();
	}

	/** Schedules the first drain, due at once: the caller (an HTTP request) does not wait for it. */
	synchronized void start() {
		if (this.plan.count() == 0) {
			return;
		}
		this.task = this.scheduler.schedule(this::tick, 0);
	}

	/** Drains what is due, then schedules the next due drain, if any. */
	private synchronized void tick() {
		if (this.cancelled) {
			return;
		}
		long elapsed = this.ticker.getAsLong() - this.startNanos;
		List<String> ids = this.plan.ids();
		while (this.next < ids.size() && this.plan.offsetNanos(this.next) - elapsed <= 0) {
			if (drain(ids.get(this.next++)) == DrainResult.DRAINING) {
				this.drained++;
			}
			else {
				this.gone++;
			}
		}
		this.task = (this.next < ids.size())
				? this.scheduler.schedule(this::tick, this.plan.offsetNanos(this.next) - elapsed) : null;
	}

	/** A failure to drain one connection must not stop the rebalance (nor leave it running forever). */
	private @Nullable DrainResult drain(String id) {
		try {
			return this.drain.apply(id);
		}
		catch (RuntimeException ex) {
			return null;
		}
	}

	/** Cancels the drains not yet made; those made stay made. */
	synchronized RebalanceProgress cancel() {
		if (isRunning()) {
			this.cancelled = true;
			Scheduler.Cancellable pending = this.task;
			this.task = null;
			if (pending != null) {
				pending.cancel();
			}
		}
		return progress();
	}

	synchronized boolean isRunning() {
		return !this.cancelled && this.next < this.plan.count();
	}

	synchronized RebalanceProgress progress() {
		return new RebalanceProgress(this.plan, this.drained, this.gone, this.plan.count() - this.next, this.cancelled);
	}

	RebalancePlan plan() {
		return this.plan;
	}

}
