package dev.grpckeepalive.config;

/**
 * One channel's keepalive options after {@code client.defaults} were merged in, validated,
 * with the values grpc-java will apply.
 *
 * @param name the channel name, the key under {@code grpc.keepalive.client.channels}
 * @param target the gRPC target
 * @param time KEEPALIVE_TIME
 * @param timeout KEEPALIVE_TIMEOUT
 * @param withoutCalls KEEPALIVE_WITHOUT_CALLS
 */
public record ChannelKeepAliveSettings(String name, String target, DurationSetting time, DurationSetting timeout,
		boolean withoutCalls) {

	/** The property prefix of this channel, such as {@code grpc.keepalive.client.channels.prices}. */
	public String propertyPrefix() {
		return KeepAliveSettings.channelPrefix(this.name);
	}

}
