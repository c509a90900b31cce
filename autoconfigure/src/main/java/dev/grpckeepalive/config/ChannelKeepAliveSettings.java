package dev.grpckeepalive.config;

import org.jspecify.annotations.Nullable;

/**
 * One channel's keepalive options after {@code client.defaults} were merged in, validated,
 * with the values grpc-java will apply.
 *
 * @param name the channel name, the key under {@code grpc.keepalive.client.channels}
 * @param target the gRPC target
 * @param time KEEPALIVE_TIME
 * @param timeout KEEPALIVE_TIMEOUT
 * @param withoutCalls KEEPALIVE_WITHOUT_CALLS
 * @param sslBundle the SSL bundle for TLS, or {@code null} for plaintext
 */
public record ChannelKeepAliveSettings(String name, String target, DurationSetting time, DurationSetting timeout,
		boolean withoutCalls, @Nullable String sslBundle) {

	/** The property prefix of this channel, such as {@code grpc.keepalive.client.channels.prices}. */
	public String propertyPrefix() {
		return KeepAliveSettings.channelPrefix(this.name);
	}

}
