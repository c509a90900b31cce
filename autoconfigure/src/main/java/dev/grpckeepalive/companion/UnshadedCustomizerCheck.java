package dev.grpckeepalive.companion;

import java.lang.reflect.Method;
import java.lang.reflect.TypeVariable;
import java.util.ArrayList;
import java.util.List;

import org.jspecify.annotations.Nullable;

import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.beans.factory.support.RootBeanDefinition;
import org.springframework.core.ResolvableType;
import org.springframework.util.ClassUtils;

/**
 * Refuses to start when Spring Boot would skip some of the application's gRPC customizers
 * without a word because of this starter.
 *
 * <p>This starter brings grpc-netty-shaded, and when it is present Spring Boot builds its
 * gRPC server and channels with grpc-netty-shaded's builders. Spring Boot applies a
 * {@code ServerBuilderCustomizer} or {@code GrpcChannelBuilderCustomizer} only to the builder
 * type it names ({@code LambdaSafe}), so a customizer typed on unshaded grpc-netty's
 * {@code io.grpc.netty.NettyServerBuilder} or {@code NettyChannelBuilder}, which ran before
 * the starter was added, is skipped from then on. Only such customizers are reported, and
 * only when Spring Boot's shaded server factory or channel factory is the one in use: a
 * customizer typed on another builder (in-process, say) is skipped by design.
 *
 * <p>A customizer's builder type comes from its class, as Spring Boot reads it, or for a
 * lambda from the declared type of its bean (its {@code @Bean} method's return type): Spring
 * Boot calls a lambda and ignores the {@code ClassCastException} it throws on another builder.
 */
final class UnshadedCustomizerCheck implements SmartInitializingSingleton {

	static final Kind SERVER = new Kind("org.springframework.grpc.server.ServerBuilderCustomizer",
			"org.springframework.grpc.server.ShadedNettyGrpcServerFactory", "its gRPC server",
			"io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder");

	static final Kind CHANNELS = new Kind("org.springframework.grpc.client.GrpcChannelBuilderCustomizer",
			"org.springframework.grpc.client.ShadedNettyGrpcChannelFactory", "its gRPC channels",
			"io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder");

	private static final String UNSHADED = "io.grpc.netty.";

	private static final String SHADED = "io.grpc.netty.shaded.";

	private final ConfigurableListableBeanFactory beanFactory;

	UnshadedCustomizerCheck(ConfigurableListableBeanFactory beanFactory) {
		this.beanFactory = beanFactory;
	}

	@Override
	public void afterSingletonsInstantiated() {
		List<SkippedCustomizersException.Skipped> skipped = new ArrayList<>();
		for (Kind kind : List.of(SERVER, CHANNELS)) {
			skipped.addAll(skipped(kind));
		}
		if (!skipped.isEmpty()) {
			throw new SkippedCustomizersException(skipped);
		}
	}

	private List<SkippedCustomizersException.Skipped> skipped(Kind kind) {
		ClassLoader classLoader = this.beanFactory.getBeanClassLoader();
		if (!ClassUtils.isPresent(kind.customizer(), classLoader) || !ClassUtils.isPresent(kind.factory(), classLoader)) {
			return List.of();
		}
		Class<?> customizer = ClassUtils.resolveClassName(kind.customizer(), classLoader);
		Class<?> factory = ClassUtils.resolveClassName(kind.factory(), classLoader);
		if (this.beanFactory.getBeanNamesForType(factory, true, false).length == 0) {
			return List.of();
		}
		Class<?> builder = ClassUtils.resolveClassName(kind.builder(), classLoader);
		List<SkippedCustomizersException.Skipped> skipped = new ArrayList<>();
		for (String name : this.beanFactory.getBeanNamesForType(customizer, true, false)) {
			Class<?> target = builderType(name, customizer);
			if (target != null && !target.isAssignableFrom(builder) && target.getName().startsWith(UNSHADED)
					&& !target.getName().startsWith(SHADED)) {
				skipped.add(new SkippedCustomizersException.Skipped(name, source(name), customizer.getSimpleName(),
						target.getName(), kind.what(), kind.builder()));
			}
		}
		return skipped;
	}

	/**
	 * Where the application declares bean {@code name}: its {@code @Bean} method (a lambda's
	 * class name would tell nothing), else its class; {@code null} if unknown.
	 */
	private @Nullable String source(String name) {
		if (this.beanFactory.containsBeanDefinition(name)
				&& this.beanFactory.getMergedBeanDefinition(name) instanceof RootBeanDefinition definition) {
			Method factoryMethod = definition.getResolvedFactoryMethod();
			if (factoryMethod != null) {
				return "@Bean " + factoryMethod.getDeclaringClass().getName() + "." + factoryMethod.getName() + "()";
			}
		}
		Class<?> type = this.beanFactory.getType(name, false);
		return (type != null) ? type.getName() : null;
	}

	/** The builder type the customizer bean {@code name} names, or {@code null} when it names none. */
	private @Nullable Class<?> builderType(String name, Class<?> customizer) {
		Class<?> type = this.beanFactory.getType(name, false);
		Class<?> target = (type != null) ? named(ResolvableType.forClass(type), customizer) : null;
		if (target == null && this.beanFactory.containsBeanDefinition(name)) {
			target = named(this.beanFactory.getMergedBeanDefinition(name).getResolvableType(), customizer);
		}
		return target;
	}

	/**
	 * The builder type {@code type} gives the customizer interface, or {@code null} for none:
	 * a lambda's class or a raw type leaves the type variable, which would resolve to its
	 * bound ({@code ServerBuilder}) and hide what a lambda's declared type names.
	 */
	private static @Nullable Class<?> named(ResolvableType type, Class<?> customizer) {
		ResolvableType generic = type.as(customizer).getGeneric(0);
		return (generic.getType() instanceof TypeVariable<?>) ? null : generic.resolve();
	}

	/**
	 * One kind of customizer.
	 * @param customizer its interface
	 * @param factory Spring Boot's factory that builds with grpc-netty-shaded
	 * @param what what that factory builds, for the report
	 * @param builder the grpc-netty-shaded builder it builds with
	 */
	record Kind(String customizer, String factory, String what, String builder) {
	}

}
