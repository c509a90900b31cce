package dev.grpckeepalive.companion;

import java.util.ArrayList;
import java.util.List;

import org.jspecify.annotations.Nullable;

import dev.grpckeepalive.config.DurationSetting;
import dev.grpckeepalive.config.LimitSetting;
import dev.grpckeepalive.config.ServerLimitSettings;

/**
 * The one line that states, at startup, which HTTP/2 abuse limits this starter puts on
 * Spring Boot's gRPC server: a server the application configured through
 * {@code spring.grpc.server.*} gets behaviour it did not ask for there (a client's calls
 * beyond {@code max-concurrent-calls-per-connection} queue, for one), so the line names each
 * limit by the property that sets it and says how to turn one off.
 */
final class AbuseLimitsLine {

	private AbuseLimitsLine() {
	}

	/**
	 * The line; it says so when every limit is off.
	 * @param limits the limits in force
	 * @param metadataSize whether this starter sets the metadata limit (else Spring Boot's own applies)
	 * @param observed whether the frame observer runs, which enforces the connection cap and the frame-flood limits
	 */
	static String of(ServerLimitSettings limits, boolean metadataSize, boolean observed) {
		List<String> on = new ArrayList<>();
		add(on, limits.maxConcurrentCallsPerConnection(), null);
		add(on, limits.maxRstFrames(), limits.rstFramesWindow());
		if (metadataSize) {
			add(on, limits.maxInboundMetadataSize(), null);
		}
		if (observed) {
			add(on, limits.maxConnections(), null);
			add(on, limits.maxPrematureResets(), limits.floodWindow());
			add(on, limits.maxUnsolicitedPingAcks(), limits.floodWindow());
			add(on, limits.maxSettingsFrames(), limits.floodWindow());
			add(on, limits.maxConsecutiveEmptyFrames(), null);
			add(on, limits.maxWindowUpdateFrames(), null);
		}
		if (on.isEmpty()) {
			return "No HTTP/2 abuse limits of this starter on Spring Boot's gRPC server: every"
					+ " grpc.keepalive.server.limits.* is -1";
		}
		return "HTTP/2 abuse limits on Spring Boot's gRPC server: " + String.join(", ", on)
				+ "; set one to -1 to turn it off (see the starter's docs/security.md)";
	}

	private static void add(List<String> on, LimitSetting limit, @Nullable DurationSetting window) {
		if (limit.isEnabled()) {
			String per = (window != null && window.effective() != null)
					? " per " + BootKeepAliveProperties.format(window.effective()) : "";
			on.add(limit.property() + "=" + limit.effective() + per);
		}
	}

}
