package dev.grpckeepalive.server;

import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;

/**
 * Callback to customize the {@link NettyServerBuilder} of the auto-configured gRPC server.
 * Customizers run in {@link org.springframework.core.Ordered order} after every
 * {@code grpc.keepalive.server.*} property has been applied, so a customizer has the last
 * word (and takes the responsibility for what it overrides).
 */
@FunctionalInterface
public interface ServerBuilderCustomizer {

	/**
	 * Customize the builder.
	 * @param builder the builder, with services and keepalive settings already applied
	 */
	void customize(NettyServerBuilder builder);

}
