package dev.grpckeepalive.operate;

import java.time.Duration;
import java.util.PriorityQueue;

/**
 * A scheduler on a fake ticker: tasks run only when a test advances the time, in the order
 * they are due, each with the ticker at its due time (or later, for a scheduler that is late).
 */
final class FakeScheduler implements Scheduler {

	private final PriorityQueue<Entry> tasks = new PriorityQueue<>();

	private long now = 1_000_000_000L;

	private long sequence;

	long nanoTime() {
		return this.now;
	}

	int pending() {
		return this.tasks.size();
	}

	@Override
	public synchronized Cancellable schedule(Runnable task, long delayNanos) {
		Entry entry = new Entry(this.now + Math.max(0, delayNanos), this.sequence++, task);
		this.tasks.add(entry);
		return () -> this.tasks.remove(entry);
	}

	/** Runs every task due within {@code duration}, then moves the time to its end. */
	void advance(Duration duration) {
		long end = this.now + duration.toNanos();
		Entry next;
		while ((next = this.tasks.peek()) != null && next.due() <= end) {
			this.tasks.poll();
			this.now = Math.max(this.now, next.due());
			next.task().run();
		}
		this.now = end;
	}

	/** Jumps the time ahead without running anything: a scheduler that stalls, then runs late. */
	void stall(Duration duration) {
		this.now += duration.toNanos();
	}

	private record Entry(long due, long sequence, Runnable task) implements Comparable<Entry> {

		@Override
		public int compareTo(Entry other) {
			int byDue = Long.compare(this.due, other.due);
			return (byDue != 0) ? byDue : Long.compare(this.sequence, other.sequence);
		}

	}

}
