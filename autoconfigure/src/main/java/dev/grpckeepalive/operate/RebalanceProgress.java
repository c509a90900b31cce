package dev.grpckeepalive.operate;

/**
 * How far a rebalance has come.
 *
 * @param plan its plan
 * @param drained connections it has drained so far
 * @param gone connections of the plan that had closed, or begun closing, by themselves before their turn
 * @param remaining connections still to drain
 * @param cancelled whether it was cancelled
 */
public record RebalanceProgress(RebalancePlan plan, int drained, int gone, int remaining, boolean cancelled) {

	/** Whether it still has connections to drain. */
	public boolean isRunning() {
		return this.remaining > 0 && !this.cancelled;
	}

}
