package dev.grpckeepalive.operate;

/** Runs a task after a delay, once: a scheduled executor in production, a fake clock in tests. */
interface Scheduler {

	/**
	 * Schedules {@code task}.
	 * @param task what to run
	 * @param delayNanos after how long; 0 or less for as soon as possible
	 * @return a handle to cancel it
	 */
	Cancellable schedule(Runnable task, long delayNanos);

	/** A scheduled task that can still be cancelled. */
	@FunctionalInterface
	interface Cancellable {

		void cancel();

	}

}
