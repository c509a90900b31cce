package dev.grpckeepalive.client;

import io.grpc.ClientInterceptor;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;

import dev.grpckeepalive.config.GrpcKeepAliveAutoConfiguration;
import dev.grpckeepalive.config.GrpcKeepAliveProperties;
import dev.grpckeepalive.config.KeepAliveSettings;
import dev.grpckeepalive.transport.FrameObservingTransport;
import dev.grpckeepalive.tls.SslBundleContexts;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.ssl.SslBundles;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.core.env.Environment;

/**
 * Auto-configures one keepalive-managed grpc-java Netty channel per
 * {@code grpc.keepalive.client.channels} entry: a {@link GrpcChannels} lookup and a
 * {@link io.grpc.ManagedChannel} bean per channel, qualified by its name. Every
 * {@link ClientInterceptor} bean applies to every channel, or to those its
 * {@link GrpcChannelInterceptor} names, in {@link org.springframework.core.annotation.Order @Order}.
 */
@AutoConfiguration(after = GrpcKeepAliveAutoConfiguration.class,
		afterName = "org.springframework.boot.autoconfigure.ssl.SslAutoConfiguration")
@ConditionalOnClass(NettyChannelBuilder.class)
@Import(ChannelBeanRegistrar.class)
public final class GrpcKeepAliveClientAutoConfiguration {

	static final String GRPC_CHANNELS_BEAN_NAME = "grpcChannels";

	@Bean(GRPC_CHANNELS_BEAN_NAME)
	GrpcChannels grpcChannels(GrpcKeepAliveProperties properties, KeepAliveSettings settings,
			ObjectProvider<ChannelBuilderCustomizer> customizers, ObjectProvider<ClientInterceptor> interceptors,
			ConfigurableListableBeanFactory beanFactory, ObjectProvider<SslBundles> sslBundles, Environment environment) {
		ChannelInterceptors channelInterceptors = ChannelInterceptors.of(interceptors, beanFactory,
				settings.channels().keySet());
		boolean observeFrames = properties.getFrames().isEnabled() && !settings.channels().isEmpty();
		FrameObservingTransport transport = observeFrames ? FrameObservingTransport.forChannels() : null;
		try {
			return new GrpcChannels(new KeepAliveChannelFactory(customizers.orderedStream().toList(),
					channelInterceptors, transport, new SslBundleContexts(sslBundles.getIfAvailable()),
					environment::resolveRequiredPlaceholders)
				.createChannels(settings), transport);
		}
		catch (RuntimeException ex) {
			if (transport != null) {
				transport.close();
			}
			throw ex;
		}
	}

}
