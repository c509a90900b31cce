package dev.grpckeepalive.advisor;

import java.net.InetAddress;
import java.time.Duration;
import java.util.List;

import org.jspecify.annotations.Nullable;

import dev.grpckeepalive.config.ChannelKeepAliveSettings;
import dev.grpckeepalive.config.DurationSetting;
import dev.grpckeepalive.config.ServerKeepAliveSettings;
import dev.grpckeepalive.connection.Side;

/**
 * Findings of the configuration alone, made once the server listens and kept as long as the
 * application runs: a channel that targets this application's own server with a keepalive
 * time below the server's permit-time ({@code keepalive_conflict}, critical: grpc-java's
 * enforcer closes its connections with GOAWAY too_many_pings), or with keepalive without
 * calls against a server that does not permit it (the same); and values grpc-java changes
 * ({@code value_clamped}, info).
 */
final class ConfigurationCheck {

	private final KeepAliveAdvisor advisor;

	ConfigurationCheck(KeepAliveAdvisor advisor) {
		this.advisor = advisor;
	}

	void checkServer(ServerKeepAliveSettings server) {
		for (DurationSetting setting : List.of(server.time(), server.timeout(), server.permitTime(),
				server.maxConnectionIdle(), server.maxConnectionAge(), server.maxConnectionAgeGrace())) {
			clamped(Side.SERVER, "server", setting);
		}
	}

	void checkChannel(ChannelKeepAliveSettings channel, @Nullable ServerKeepAliveSettings server, int serverPort) {
		clamped(Side.CLIENT, channel.name(), channel.time());
		clamped(Side.CLIENT, channel.name(), channel.timeout());
		Duration time = channel.time().effective();
		if (server == null || time == null || !targetsThisServer(channel.target(), serverPort)) {
			return;
		}
		Duration permitTime = server.permitTime().effective();
		if (permitTime != null && time.compareTo(permitTime) < 0) {
			Evidence evidence = evidence(channel, server, serverPort);
			Duration suggestedPermit = time;
			this.advisor.reportPersistent(FindingType.KEEPALIVE_CONFLICT, Severity.CRITICAL, Side.CLIENT,
					channel.name(), "time-below-permit-time",
					"Channel '" + channel.name() + "' targets this application's own server with keepalive time "
							+ Durations.text(time) + ", below the server's permit-time " + Durations.text(permitTime)
							+ ": the server will close its connections with GOAWAY too_many_pings.",
					evidence,
					new Recommendation(channel.time().property(), Durations.text(time), Durations.text(permitTime),
							List.of(), "set " + server.permitTime().property() + " to " + Durations.text(suggestedPermit),
							"set " + channel.time().property() + " to " + Durations.text(permitTime) + ", or set "
									+ server.permitTime().property() + " to " + Durations.text(suggestedPermit) + "."));
		}
		if (channel.withoutCalls() && !server.permitWithoutCalls()) {
			String permitWithoutCalls = server.permitTime().property().replace("permit-time", "permit-without-calls");
			String withoutCalls = channel.time().property().replaceAll("\\.time$", ".without-calls");
			this.advisor.reportPersistent(FindingType.KEEPALIVE_CONFLICT, Severity.CRITICAL, Side.CLIENT,
					channel.name(), "without-calls-not-permitted",
					"Channel '" + channel.name() + "' targets this application's own server and sends keepalive "
							+ "PINGs without calls, which the server does not permit: it will close idle connections "
							+ "with GOAWAY too_many_pings.",
					evidence(channel, server, serverPort),
					new Recommendation(permitWithoutCalls, "false", "true", List.of(),
							"set " + withoutCalls + " to false",
							"set " + permitWithoutCalls + " to true, or set " + withoutCalls + " to false."));
		}
	}

	private static Evidence evidence(ChannelKeepAliveSettings channel, ServerKeepAliveSettings server, int serverPort) {
		return new Evidence.KeepAliveConflict(channel.target(), serverPort, Durations.text(channel.time().effective()),
				channel.withoutCalls(), Durations.text(server.permitTime().effective()), server.permitWithoutCalls());
	}

	private void clamped(Side side, String channel, DurationSetting setting) {
		if (!setting.isAdjusted()) {
			return;
		}
		Evidence evidence = new Evidence.ValueClamped(Durations.text(setting.requested()),
				Durations.text(setting.effective()), setting.adjustment());
		this.advisor.reportPersistent(FindingType.VALUE_CLAMPED, Severity.INFO, side, channel, setting.property(),
				setting.property() + " is " + Durations.text(setting.requested()) + " but grpc-java applies "
						+ Durations.text(setting.effective()) + " (" + setting.adjustment() + ").",
				evidence,
				new Recommendation(setting.property(), Durations.text(setting.requested()),
						Durations.text(setting.effective()), List.of(), null, "set " + setting.property() + " to "
								+ Durations.text(setting.effective()) + ", the value grpc-java applies anyway."));
	}

	/** Whether a gRPC target names a loopback or local address and this port. */
	static boolean targetsThisServer(String target, int serverPort) {
		if (serverPort <= 0) {
			return false;
		}
		String authority = target;
		if (authority.startsWith("dns:")) {
			authority = authority.substring(4);
			if (authority.startsWith("//")) {
				int slash = authority.indexOf('/', 2);
				authority = (slash >= 0) ? authority.substring(slash + 1) : authority.substring(2);
			}
		}
		else if (authority.startsWith("ipv4:") || authority.startsWith("ipv6:")) {
			authority = authority.substring(5);
		}
		int colon = authority.lastIndexOf(':');
		if (colon <= 0) {
			return false;
		}
		String host = authority.substring(0, colon).replace("[", "").replace("]", "");
		String port = authority.substring(colon + 1);
		if (!port.equals(String.valueOf(serverPort))) {
			return false;
		}
		if ("localhost".equalsIgnoreCase(host)) {
			return true;
		}
		if (!host.matches("[0-9.]+|[0-9a-fA-F:]+")) {
			// a name: not resolved here, startup should not wait for DNS
			return false;
		}
		try {
			InetAddress address = InetAddress.getByName(host);
			return address.isLoopbackAddress() || address.isAnyLocalAddress();
		}
		catch (Exception ex) {
			return false;
		}
	}

}
