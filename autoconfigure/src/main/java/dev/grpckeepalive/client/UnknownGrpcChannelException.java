package dev.grpckeepalive.client;

import java.util.Set;

/** A channel was asked for by a name that no {@code grpc.keepalive.client.channels} entry has. */
public class UnknownGrpcChannelException extends IllegalArgumentException {

	private static final long serialVersionUID = 1L;

	private final String channelName;

	private final Set<String> configuredNames;

	UnknownGrpcChannelException(String channelName, Set<String> configuredNames) {
		super("No gRPC channel named '" + channelName + "' is configured; configured channels: "
				+ (configuredNames.isEmpty() ? "none" : String.join(", ", configuredNames)));
		this.channelName = channelName;
		this.configuredNames = Set.copyOf(configuredNames);
	}

	public String getChannelName() {
		return this.channelName;
	}

	public Set<String> getConfiguredNames() {
		return this.configuredNames;
	}

}
