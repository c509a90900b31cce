package dev.grpckeepalive.client;

import java.util.Map;
import java.util.Set;

import io.grpc.ManagedChannel;

import dev.grpckeepalive.config.GrpcKeepAliveProperties;


import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.beans.factory.support.AutowireCandidateQualifier;
import org.springframework.beans.factory.support.BeanDefinitionRegistry;
import org.springframework.beans.factory.support.RootBeanDefinition;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.context.EnvironmentAware;
import org.springframework.context.annotation.ImportBeanDefinitionRegistrar;
import org.springframework.core.env.Environment;
import org.springframework.core.type.AnnotationMetadata;

/**
 * Registers one {@link ManagedChannel} bean per {@code grpc.keepalive.client.channels}
 * entry, qualified by the channel name. Each bean is produced by
 * {@link GrpcChannels#get(String)}, so bean and lookup share one instance, and its
 * lifecycle stays with {@link GrpcChannels}.
 */
class ChannelBeanRegistrar implements ImportBeanDefinitionRegistrar, EnvironmentAware {

	static final String CHANNELS_PROPERTY = GrpcKeepAliveProperties.PREFIX + ".client.channels";

	private Set<String> channelNames = Set.of();

	@Override
	public void setEnvironment(Environment environment) {
		this.channelNames = channelNames(environment);
	}

	/** The names under {@code grpc.keepalive.client.channels}, read before the properties are bound. */
	static Set<String> channelNames(Environment environment) {
		return Binder.get(environment)
			.bind(CHANNELS_PROPERTY, Bindable.mapOf(String.class, Object.class))
			.map(Map::keySet)
			.orElse(Set.of());
	}

	@Override
	public void registerBeanDefinitions(AnnotationMetadata metadata, BeanDefinitionRegistry registry) {
		for (String name : this.channelNames) {
			String beanName = beanName(name);
			if (registry.containsBeanDefinition(beanName)) {
				continue;
			}
			RootBeanDefinition definition = new RootBeanDefinition(ManagedChannel.class);
			definition.setFactoryBeanName(GrpcKeepAliveClientAutoConfiguration.GRPC_CHANNELS_BEAN_NAME);
			definition.setUniqueFactoryMethodName("get");
			definition.getConstructorArgumentValues().addGenericArgumentValue(name);
			definition.addQualifier(new AutowireCandidateQualifier(Qualifier.class, name));
			definition.setDestroyMethodName(null);
			registry.registerBeanDefinition(beanName, definition);
		}
	}

	/** The bean name of a channel: its property prefix, so that bean listings explain themselves. */
	static String beanName(String channelName) {
		return CHANNELS_PROPERTY + "." + channelName;
	}

}
