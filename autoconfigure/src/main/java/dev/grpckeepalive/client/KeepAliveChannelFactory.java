package dev.grpckeepalive.client;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

import io.grpc.ClientInterceptor;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NegotiationType;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import org.jspecify.annotations.Nullable;

import dev.grpckeepalive.config.ChannelKeepAliveSettings;
import dev.grpckeepalive.config.ConfigurationViolation;
import dev.grpckeepalive.config.InvalidKeepAliveConfigurationException;
import dev.grpckeepalive.config.KeepAliveSettings;
import dev.grpckeepalive.connection.ConnectionTracker;
import dev.grpckeepalive.connection.Side;
import dev.grpckeepalive.transport.ConnectionInstrumentation;
import dev.grpckeepalive.transport.FrameObservingTransport;
import dev.grpckeepalive.tls.SslBundleContexts;

/**
 * Builds one {@link NettyChannelBuilder} per configured channel: target, TLS from an SSL bundle or plaintext, the
 * three client keepalive options, the application's interceptors for the channel, connection tracking and the
 * frame observer, then the
 * customizers. grpc-java receives the requested
 * values and enforces them itself.
 */
final class KeepAliveChannelFactory {

	private static final String PLACEHOLDER_PREFIX = "${";

	private final List<ChannelBuilderCustomizer> customizers;

	private final @Nullable FrameObservingTransport transport;

	private final SslBundleContexts tls;

	private final ChannelInterceptors interceptors;

	private final UnaryOperator<String> placeholders;

	/**
	 * @param placeholders resolves the {@code ${...}} placeholders left in a target, such as
	 * {@code ${local.grpc.port}}, when its channel is first used
	 */
	KeepAliveChannelFactory(List<ChannelBuilderCustomizer> customizers, ChannelInterceptors interceptors,
			@Nullable FrameObservingTransport transport, SslBundleContexts tls, UnaryOperator<String> placeholders) {
		this.customizers = customizers;
		this.interceptors = interceptors;
		this.placeholders = placeholders;
		this.transport = transport;
		this.tls = tls;
	}

	/** Creates every configured channel, each with its connection tracker. */
	Map<String, TrackedChannel> createChannels(KeepAliveSettings settings) {
		Map<String, TrackedChannel> channels = new LinkedHashMap<>();
		try {
			settings.channels().values().forEach((channel) -> channels.put(channel.name(), createChannel(channel)));
		}
		catch (RuntimeException ex) {
			channels.values().forEach((channel) -> {
				ManagedChannel built = channel.channel();
				if (built != null) {
					built.shutdownNow();
				}
			});
			throw ex;
		}
		return channels;
	}

	TrackedChannel createChannel(ChannelKeepAliveSettings settings) {
		ConnectionTracker tracker = ConnectionTracker.create(Side.CLIENT, settings.name(), null, null);
		if (settings.target().contains(PLACEHOLDER_PREFIX)) {
			// such as ${local.grpc.port}: known once the server has started, after this channel bean exists
			return new TrackedChannel(settings,
					new DeferredChannel(() -> build(settings, this.placeholders.apply(settings.target()), tracker)),
					tracker);
		}
		return new TrackedChannel(settings, build(settings, settings.target(), tracker), tracker);
	}

	private ManagedChannel build(ChannelKeepAliveSettings settings, String target, ConnectionTracker tracker) {
		NettyChannelBuilder builder = NettyChannelBuilder.forTarget(target);
		if (settings.sslBundle() != null) {
			builder.negotiationType(NegotiationType.TLS)
				.sslContext(this.tls.forClient(settings.propertyPrefix() + ".ssl.bundle", settings.sslBundle()));
		}
		else {
			builder.usePlaintext();
		}
		if (settings.time().requested() != null) {
			builder.keepAliveTime(settings.time().requestedNanos(), TimeUnit.NANOSECONDS);
		}
		builder.keepAliveTimeout(settings.timeout().requestedNanos(), TimeUnit.NANOSECONDS);
		builder.keepAliveWithoutCalls(settings.withoutCalls());
		// grpc-java runs the interceptor added last first: the application's in reverse, so that the first by
		// @Order runs first, and before the starter's call counter, which thus stays outermost and counts every call
		List<ClientInterceptor> interceptors = new ArrayList<>(this.interceptors.forChannel(settings.name()));
		Collections.reverse(interceptors);
		builder.intercept(interceptors);
		ConnectionInstrumentation.install(builder, tracker, this.transport, settings.timeout().requireEffective());
		this.customizers.forEach((customizer) -> customizer.customize(settings.name(), builder));
		try {
			return builder.build();
		}
		catch (IllegalArgumentException ex) {
			// grpc-java checks the target's scheme against its name resolvers only here.
			throw new InvalidKeepAliveConfigurationException(List.of(new ConfigurationViolation(
					settings.propertyPrefix() + ".target", target,
					"is not a target grpc-java can resolve: " + ex.getMessage(),
					"Use 'host:port' or a URI with a registered scheme, such as 'dns:///host:port'.")));
		}
	}

}
