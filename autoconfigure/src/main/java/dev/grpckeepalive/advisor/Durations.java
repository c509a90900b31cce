package dev.grpckeepalive.advisor;

import java.time.Duration;
import java.util.Arrays;

import org.jspecify.annotations.Nullable;

import dev.grpckeepalive.config.DurationFormat;

/** Formatting and rounding of the figures in findings. */
final class Durations {

	private Durations() {
	}

	/** A duration as a property value: {@code 10s}, {@code 250ms}; {@code disabled} for none. */
	static String text(@Nullable Duration duration) {
		return (duration != null) ? DurationFormat.format(duration) : "disabled";
	}

	/** Milliseconds from nanoseconds. */
	static long millis(long nanos) {
		return nanos / 1_000_000L;
	}

	/** The largest whole second not above {@code millis} (whole milliseconds under 1s). */
	static Duration floorNice(long millis) {
		if (millis >= 1000) {
			return Duration.ofSeconds(millis / 1000);
		}
		return Duration.ofMillis(Math.max(1, millis));
	}

	/** The smallest whole second not below {@code millis} (hundreds of milliseconds under 1s). */
	static Duration ceilNice(long millis) {
		if (millis >= 1000) {
			return Duration.ofSeconds((millis + 999) / 1000);
		}
		return Duration.ofMillis(Math.max(100, ((millis + 99) / 100) * 100));
	}

	/** Median, min and max of some millisecond figures, and how many there were. */
	static Evidence.Stats stats(long[] millis) {
		if (millis.length == 0) {
			return Evidence.Stats.NONE;
		}
		long[] sorted = millis.clone();
		Arrays.sort(sorted);
		return new Evidence.Stats(median(sorted), sorted[0], sorted[sorted.length - 1], sorted.length);
	}

	static long median(long[] sorted) {
		int n = sorted.length;
		return (n % 2 == 1) ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
	}

	/** The value at quantile {@code q} (nearest rank) of sorted figures. */
	static long quantile(long[] sorted, double q) {
		int rank = (int) Math.ceil(q * sorted.length);
		return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
	}

}
