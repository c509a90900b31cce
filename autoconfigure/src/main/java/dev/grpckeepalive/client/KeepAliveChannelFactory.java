package dev.grpckeepalive.client;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;

import dev.grpckeepalive.config.ChannelKeepAliveSettings;
import dev.grpckeepalive.config.ConfigurationViolation;
import dev.grpckeepalive.config.InvalidKeepAliveConfigurationException;
import dev.grpckeepalive.config.KeepAliveSettings;

/**
 * Builds one plaintext {@link NettyChannelBuilder} per configured channel: target, the
 * three client keepalive options, then the customizers. grpc-java receives the requested
 * values and enforces them itself.
 */
final class KeepAliveChannelFactory {

	private final List<ChannelBuilderCustomizer> customizers;

	KeepAliveChannelFactory(List<ChannelBuilderCustomizer> customizers) {
		this.customizers = customizers;
	}

	Map<String, ManagedChannel> createChannels(KeepAliveSettings settings) {
		Map<String, ManagedChannel> channels = new LinkedHashMap<>();
		try {
			settings.channels().values().forEach((channel) -> channels.put(channel.name(), createChannel(channel)));
		}
		catch (RuntimeException ex) {
			channels.values().forEach(ManagedChannel::shutdownNow);
			throw ex;
		}
		return channels;
	}

	ManagedChannel createChannel(ChannelKeepAliveSettings settings) {
		NettyChannelBuilder builder = NettyChannelBuilder.forTarget(settings.target()).usePlaintext();
		if (settings.time().requested() != null) {
			builder.keepAliveTime(settings.time().requestedNanos(), TimeUnit.NANOSECONDS);
		}
		builder.keepAliveTimeout(settings.timeout().requestedNanos(), TimeUnit.NANOSECONDS);
		builder.keepAliveWithoutCalls(settings.withoutCalls());
		this.customizers.forEach((customizer) -> customizer.customize(settings.name(), builder));
		try {
			return builder.build();
		}
		catch (IllegalArgumentException ex) {
			// grpc-java checks the target's scheme against its name resolvers only here.
			throw new InvalidKeepAliveConfigurationException(List.of(new ConfigurationViolation(
					settings.propertyPrefix() + ".target", settings.target(),
					"is not a target grpc-java can resolve: " + ex.getMessage(),
					"Use 'host:port' or a URI with a registered scheme, such as 'dns:///host:port'.")));
		}
	}

}
