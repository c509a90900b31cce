package dev.grpckeepalive.advisor;

import java.util.Arrays;

/**
 * The latest few figures of one kind, each with when it was seen; bounded. Not thread-safe:
 * callers hold the lock of what owns it.
 */
final class Samples {

	private final long[] values;

	private final long[] atMillis;

	private int next;

	private int size;

	Samples(int capacity) {
		this.values = new long[capacity];
		this.atMillis = new long[capacity];
	}

	void add(long value, long atMillis) {
		this.values[this.next] = value;
		this.atMillis[this.next] = atMillis;
		this.next = (this.next + 1) % this.values.length;
		this.size = Math.min(this.size + 1, this.values.length);
	}

	/** The figures seen at or after {@code sinceMillis}. */
	long[] since(long sinceMillis) {
		long[] result = new long[this.size];
		int count = 0;
		for (int i = 0; i < this.size; i++) {
			if (this.atMillis[i] >= sinceMillis) {
				result[count++] = this.values[i];
			}
		}
		return Arrays.copyOf(result, count);
	}

}
