package dev.grpckeepalive.operate;

/** A rebalance was asked for while another runs: one at a time. Cancel it first, or wait. */
public class RebalanceRunningException extends IllegalStateException {

	private static final long serialVersionUID = 1L;

	private final transient RebalanceProgress running;

	RebalanceRunningException(RebalanceProgress running) {
		super("A rebalance (" + running.plan().request() + ") is running: " + running.remaining()
				+ " connection(s) left to drain");
		this.running = running;
	}

	/** The rebalance that runs. */
	public RebalanceProgress getRunning() {
		return this.running;
	}

}
