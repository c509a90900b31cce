package dev.grpckeepalive.operate;

import java.time.Duration;

import org.jspecify.annotations.Nullable;

import dev.grpckeepalive.config.DurationFormat;

import org.springframework.boot.convert.DurationStyle;

/**
 * What an operator asks a rebalance for: keep at most {@code keep} connections, or shed the
 * share {@code shed} of them, draining them one by one over {@code over}.
 *
 * @param keep how many connections to keep, or {@code null} when {@code shed} is given
 * @param shed the share of the connections to drain, above 0 and at most 1, or {@code null}
 * when {@code keep} is given
 * @param over the period the drains are spread over; zero drains them all at once
 */
public record RebalanceRequest(@Nullable Integer keep, @Nullable Double shed, Duration over) {

	/** The period when the request names none: long enough that reconnecting clients do not arrive as a herd. */
	public static final Duration DEFAULT_OVER = Duration.ofSeconds(30);

	/** The longest period: a rebalance is an action, not a policy (that is max-connection-age). */
	public static final Duration MAX_OVER = Duration.ofHours(1);

	public RebalanceRequest {
		if ((keep == null) == (shed == null)) {
			throw new IllegalArgumentException("exactly one of keep and shed");
		}
	}

	/**
	 * Reads a request from the body's fields as text (JSON numbers arrive as their text).
	 * @param keep the {@code keep} field, or {@code null}
	 * @param shed the {@code shed} field, or {@code null}
	 * @param over the {@code over} field, or {@code null} for {@link #DEFAULT_OVER}
	 * @return the request
	 * @throws InvalidRebalanceRequestException naming the field that is wrong and the fix
	 */
	public static RebalanceRequest parse(@Nullable String keep, @Nullable String shed, @Nullable String over) {
		if (keep == null && shed == null) {
			throw new InvalidRebalanceRequestException("keep", "missing",
					"give \"keep\" (connections to keep, such as {\"keep\": 100}) or \"shed\" (the share to drain, "
							+ "such as {\"shed\": 0.25})");
		}
		if (keep != null && shed != null) {
			throw new InvalidRebalanceRequestException("shed", "given with \"keep\"",
					"give either \"keep\" or \"shed\", not both");
		}
		Duration period = (over != null) ? period(over) : DEFAULT_OVER;
		if (keep != null) {
			return new RebalanceRequest(keep(keep), null, period);
		}
		return new RebalanceRequest(null, shed(shed), period);
	}

	private static int keep(String text) {
		try {
			int keep = Integer.parseInt(text.trim());
			if (keep >= 0) {
				return keep;
			}
		}
		catch (NumberFormatException ex) {
			// answered below
		}
		throw new InvalidRebalanceRequestException("keep", "'" + text + "'",
				"give the number of connections to keep, a whole number of 0 or more, such as {\"keep\": 100}");
	}

	private static double shed(@Nullable String text) {
		try {
			double shed = Double.parseDouble(String.valueOf(text).trim());
			if (shed > 0 && shed <= 1) {
				return shed;
			}
		}
		catch (NumberFormatException ex) {
			// answered below
		}
		throw new InvalidRebalanceRequestException("shed", "'" + text + "'",
				"give the share of the connections to drain, above 0 and at most 1, such as {\"shed\": 0.25}");
	}

	private static Duration period(String text) {
		Duration period;
		try {
			period = DurationStyle.detectAndParse(text.trim());
		}
		catch (IllegalArgumentException ex) {
			throw new InvalidRebalanceRequestException("over", "'" + text + "'",
					"give a duration such as \"30s\", \"2m\" or \"PT30S\" (a bare number is milliseconds)");
		}
		if (period.isNegative() || period.compareTo(MAX_OVER) > 0) {
			throw new InvalidRebalanceRequestException("over", "'" + text + "'",
					"give a duration from \"0s\" (all at once) to \"" + DurationFormat.format(MAX_OVER) + "\"");
		}
		return period;
	}

	/** The request as the log and the answer name it, such as {@code keep 100 over 30s}. */
	String describe() {
		String what = (this.keep != null) ? "keep " + this.keep : "shed " + this.shed;
		return what + " over " + DurationFormat.format(this.over);
	}

}
