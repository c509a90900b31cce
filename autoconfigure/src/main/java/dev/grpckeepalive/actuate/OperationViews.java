package dev.grpckeepalive.actuate;

import java.time.Duration;
import java.util.List;
import java.util.Locale;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonInclude.Include;
import org.jspecify.annotations.Nullable;

import dev.grpckeepalive.config.DurationFormat;
import dev.grpckeepalive.connection.ConnectionSnapshot;
import dev.grpckeepalive.connection.GoAway;
import dev.grpckeepalive.operate.InvalidRebalanceRequestException;
import dev.grpckeepalive.operate.RebalancePlan;
import dev.grpckeepalive.operate.RebalanceProgress;

/**
 * The JSON answers of the endpoint's write operations (docs/actuator.md, "Write operations"):
 * what a drain did, what a rebalance will drain, why a request was refused. Durations are
 * written as users write them ({@code 30s}), instants in ISO-8601.
 */
final class OperationViews {

	/** How many ids a rebalance's answer lists at most, so that the answer stays bounded: the first, in order. */
	static final int MAX_IDS = 1000;

	private OperationViews() {
	}

	/** {@code DELETE .../connections/{id}}: what was done to the connection. */
	record DrainDescriptor(String id, String action, @Nullable Integer activeCalls, String grace, String message) {
	}

	/** {@code POST .../rebalance}: what it will drain, and when. */
	record RebalanceDescriptor(String request, int open, int count, int keeping, String over, String interval,
			String grace, String startedAt, List<String> ids) {
	}

	/** A rebalance under way (a refused second one) or cancelled. */
	record ProgressDescriptor(String request, int count, int drained, int gone, int remaining, boolean cancelled,
			String over, String startedAt) {
	}

	/** A refusal: what is wrong and what to do, and for a bad body the field. */
	record ErrorDescriptor(String message, @JsonInclude(Include.NON_NULL) @Nullable String field,
			@JsonInclude(Include.NON_NULL) @Nullable String fix,
			@JsonInclude(Include.NON_NULL) @Nullable ProgressDescriptor running) {
	}

	static DrainDescriptor draining(String id, @Nullable ConnectionSnapshot before, Duration grace) {
		Integer calls = (before != null) ? before.activeCalls() : null;
		String within = DurationFormat.format(grace);
		return new DrainDescriptor(id, "draining", calls, within,
				"GOAWAY drained sent; the connection closes once its "
						+ ((calls != null) ? calls + " " : "") + "call(s) in flight are done, within " + within);
	}

	static DrainDescriptor alreadyDraining(String id, @Nullable ConnectionSnapshot before, Duration grace) {
		GoAway goAway = null;
		if (before != null) {
			goAway = (before.lastGoAwaySent() != null) ? before.lastGoAwaySent() : before.lastGoAwayReceived();
		}
		String why = (goAway != null) ? " (GOAWAY " + goAway.direction().name().toLowerCase(Locale.ROOT)
				+ ((goAway.reason() != null) ? " " + goAway.reason().tag() : "") + ")" : "";
		return new DrainDescriptor(id, "already_draining", (before != null) ? before.activeCalls() : null,
				DurationFormat.format(grace), "The connection is already closing" + why + ": nothing was done");
	}

	static RebalanceDescriptor rebalance(RebalancePlan plan, Duration grace) {
		return new RebalanceDescriptor(plan.request(), plan.open(), plan.count(), plan.keeping(),
				DurationFormat.format(plan.over()), DurationFormat.format(plan.interval()), DurationFormat.format(grace),
				plan.startedAt().toString(), plan.ids().subList(0, Math.min(MAX_IDS, plan.count())));
	}

	static ProgressDescriptor progress(RebalanceProgress progress) {
		RebalancePlan plan = progress.plan();
		return new ProgressDescriptor(plan.request(), plan.count(), progress.drained(), progress.gone(),
				progress.remaining(), progress.cancelled(), DurationFormat.format(plan.over()),
				plan.startedAt().toString());
	}

	static ErrorDescriptor error(String message) {
		return new ErrorDescriptor(message, null, null, null);
	}

	static ErrorDescriptor invalid(InvalidRebalanceRequestException ex) {
		return new ErrorDescriptor(String.valueOf(ex.getMessage()), ex.getField(), ex.getFix(), null);
	}

	static ErrorDescriptor running(String message, RebalanceProgress running) {
		return new ErrorDescriptor(message, null, null, progress(running));
	}

}
