package dev.grpckeepalive.client;

import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;

/**
 * Callback to customize the {@link NettyChannelBuilder} of each auto-configured channel.
 * Customizers run in {@link org.springframework.core.Ordered order} after the channel's
 * {@code grpc.keepalive.client.*} properties have been applied.
 */
@FunctionalInterface
public interface ChannelBuilderCustomizer {

	/**
	 * Customize the builder of one channel.
	 * @param channelName the channel's name, the key under {@code grpc.keepalive.client.channels}
	 * @param builder the builder, with target and keepalive settings already applied
	 */
	void customize(String channelName, NettyChannelBuilder builder);

}
