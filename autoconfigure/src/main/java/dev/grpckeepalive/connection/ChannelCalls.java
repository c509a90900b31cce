package dev.grpckeepalive.connection;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * A channel's calls in flight. A channel does not know which of its connections a call
 * uses, so it counts calls per channel, and its connections are active or idle together.
 * One count per channel, written by the channel's calls only.
 */
final class ChannelCalls {

	private final AtomicInteger active = new AtomicInteger();

	/** When the calls in flight now began to be in flight without a break. */
	private volatile long sinceNanos;

	void started(long nowNanos) {
		if (this.active.get() == 0) {
			// before the count: a reader that sees calls sees when they began, or a later time
			this.sinceNanos = nowNanos;
		}
		this.active.incrementAndGet();
	}

	void ended() {
		this.active.decrementAndGet();
	}

	int active() {
		return this.active.get();
	}

	/** Whether the channel had calls in flight through the whole time since {@code sinceNanos}. */
	boolean throughout(long sinceNanos) {
		return this.active.get() > 0 && this.sinceNanos - sinceNanos <= 0;
	}

}
