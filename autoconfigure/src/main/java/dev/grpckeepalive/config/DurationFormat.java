package dev.grpckeepalive.config;

import java.time.Duration;

/**
 * Formats durations the way users write them in {@code application.yml}: {@code 10s},
 * {@code 1m30s}, {@code 500ms}, {@code -5s}.
 */
public final class DurationFormat {

	private static final long[] UNIT_MILLIS = { 86_400_000L, 3_600_000L, 60_000L, 1_000L, 1L };

	private static final String[] UNIT_NAMES = { "d", "h", "m", "s", "ms" };

	private DurationFormat() {
	}

	public static String format(Duration duration) {
		if (duration.isZero()) {
			return "0s";
		}
		StringBuilder text = new StringBuilder(duration.isNegative() ? "-" : "");
		Duration remaining = duration.abs();
		long millis;
		try {
			millis = remaining.toMillis();
		}
		catch (ArithmeticException ex) {
			return duration.toString();
		}
		for (int i = 0; i < UNIT_MILLIS.length; i++) {
			long amount = millis / UNIT_MILLIS[i];
			if (amount > 0) {
				text.append(amount).append(UNIT_NAMES[i]);
				millis -= amount * UNIT_MILLIS[i];
			}
		}
		int nanos = remaining.toNanosPart() % 1_000_000;
		if (nanos > 0) {
			text.append(nanos).append("ns");
		}
		return text.toString();
	}

}
