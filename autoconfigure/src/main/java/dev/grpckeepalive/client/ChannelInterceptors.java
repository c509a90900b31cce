package dev.grpckeepalive.client;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import io.grpc.ClientInterceptor;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;

/**
 * The application's {@link ClientInterceptor} beans, in {@code @Order}, each with the channels
 * it applies to: those its {@link GrpcChannelInterceptor} names, or every channel.
 */
final class ChannelInterceptors {

	private record Scoped(ClientInterceptor interceptor, Set<String> channels) {

		boolean appliesTo(String channel) {
			return this.channels.isEmpty() || this.channels.contains(channel);
		}

	}

	private final List<Scoped> interceptors;

	private ChannelInterceptors(List<Scoped> interceptors) {
		this.interceptors = interceptors;
	}

	/**
	 * Reads the interceptor beans and their annotations.
	 * @param beans the interceptor beans, ordered
	 * @param beanFactory where their definitions are
	 * @param channelNames the configured channels: an annotation naming another fails
	 */
	static ChannelInterceptors of(ObjectProvider<ClientInterceptor> beans, ConfigurableListableBeanFactory beanFactory,
			Set<String> channelNames) {
		Map<ClientInterceptor, String> names = new IdentityHashMap<>();
		beanFactory.getBeansOfType(ClientInterceptor.class).forEach((name, bean) -> names.put(bean, name));
		List<Scoped> scoped = new ArrayList<>();
		beans.orderedStream().forEach((interceptor) -> {
			String beanName = names.get(interceptor);
			GrpcChannelInterceptor annotation = (beanName != null)
					? beanFactory.findAnnotationOnBean(beanName, GrpcChannelInterceptor.class) : null;
			Set<String> channels = (annotation != null) ? Set.of(annotation.channels()) : Set.of();
			for (String channel : channels) {
				if (!channelNames.contains(channel)) {
					throw new UnknownGrpcChannelException(channel, channelNames);
				}
			}
			scoped.add(new Scoped(interceptor, channels));
		});
		return new ChannelInterceptors(List.copyOf(scoped));
	}

	/** The interceptors of one channel, the first to run first. */
	List<ClientInterceptor> forChannel(String channel) {
		return this.interceptors.stream()
			.filter((scoped) -> scoped.appliesTo(channel))
			.map(Scoped::interceptor)
			.toList();
	}

}
