package dev.grpckeepalive.client;

import java.lang.annotation.Annotation;
import java.util.Set;
import java.util.TreeSet;

import io.grpc.Channel;
import org.jspecify.annotations.Nullable;

import org.springframework.beans.factory.InjectionPoint;
import org.springframework.beans.factory.NoSuchBeanDefinitionException;
import org.springframework.beans.factory.UnsatisfiedDependencyException;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.diagnostics.FailureAnalyzer;
import org.springframework.core.MethodParameter;
import org.springframework.core.Ordered;
import org.springframework.core.ResolvableType;
import org.springframework.core.env.Environment;

/**
 * Explains a channel asked for by a name that is not configured: either through
 * {@link GrpcChannels#get(String)} or by injecting a {@code @Qualifier("name")}
 * {@link io.grpc.ManagedChannel}. Runs before Spring Boot's generic "no such bean" analysis.
 */
class UnknownGrpcChannelFailureAnalyzer implements FailureAnalyzer, Ordered {

	private final @Nullable Environment environment;

	UnknownGrpcChannelFailureAnalyzer(@Nullable Environment environment) {
		this.environment = environment;
	}

	@Override
	public @Nullable FailureAnalysis analyze(Throwable failure) {
		for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
			if (cause instanceof UnknownGrpcChannelException unknown) {
				return analysis(unknown.getChannelName(), "GrpcChannels.get(\"" + unknown.getChannelName() + "\")",
						unknown.getConfiguredNames(), unknown);
			}
			if (cause instanceof UnsatisfiedDependencyException unsatisfied
					&& unsatisfied.getCause() instanceof NoSuchBeanDefinitionException missing
					&& isChannel(missing.getResolvableType())) {
				String name = qualifier(unsatisfied.getInjectionPoint());
				if (name != null) {
					return analysis(name, describe(unsatisfied.getInjectionPoint()), configuredNames(), unsatisfied);
				}
			}
		}
		return null;
	}

	private FailureAnalysis analysis(String name, String requestedBy, Set<String> configured, Throwable cause) {
		String description = requestedBy + " asks for the gRPC channel '" + name
				+ "', but no channel of that name is configured. Configured channels: "
				+ (configured.isEmpty() ? "none" : String.join(", ", new TreeSet<>(configured))) + ".";
		String action = "Configure the channel with grpc.keepalive.client.channels." + name
				+ ".target=<host:port>, or use the name of a configured channel.";
		return new FailureAnalysis(description, action, cause);
	}

	private static boolean isChannel(@Nullable ResolvableType type) {
		return type != null && type.resolve() != null && Channel.class.isAssignableFrom(type.resolve());
	}

	private static @Nullable String qualifier(@Nullable InjectionPoint injectionPoint) {
		if (injectionPoint == null) {
			return null;
		}
		for (Annotation annotation : injectionPoint.getAnnotations()) {
			if (annotation instanceof Qualifier qualifier) {
				return qualifier.value();
			}
		}
		return null;
	}

	private static String describe(@Nullable InjectionPoint injectionPoint) {
		if (injectionPoint == null) {
			return "A bean";
		}
		if (injectionPoint.getField() != null) {
			return "Field '" + injectionPoint.getField().getName() + "' of "
					+ injectionPoint.getField().getDeclaringClass().getName();
		}
		MethodParameter parameter = injectionPoint.getMethodParameter();
		if (parameter == null) {
			return "A bean";
		}
		return "Parameter " + parameter.getParameterIndex() + " of " + parameter.getExecutable().toGenericString();
	}

	private Set<String> configuredNames() {
		if (this.environment == null) {
			return Set.of();
		}
		return ChannelBeanRegistrar.channelNames(this.environment);
	}

	@Override
	public int getOrder() {
		return Ordered.HIGHEST_PRECEDENCE;
	}

}
