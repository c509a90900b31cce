package dev.grpckeepalive.companion;

import java.time.Duration;

import org.apache.commons.logging.Log;
import org.jspecify.annotations.Nullable;

import dev.grpckeepalive.config.DurationFormat;

import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName;
import org.springframework.core.env.Environment;

/**
 * Reads the keepalive options of companion mode: this starter's {@code grpc.keepalive.*}
 * property when the application set it, and Spring Boot's own {@code spring.grpc.*}
 * properties as Spring Boot reads them. Which one wins is the caller's rule (on the server
 * this starter's; on a channel the channel's own over this starter's defaults), and each
 * override is logged.
 *
 * <p>Spring Boot's values are bound into Spring Boot's own properties classes
 * ({@code GrpcServerProperties}, {@code GrpcClientProperties}), never property by property
 * into a plain {@link Duration}: those classes declare {@code @DurationUnit(SECONDS)}, so a
 * bare {@code spring.grpc.server.keepalive.timeout: 20} is 20 seconds, where a bare number
 * under {@code grpc.keepalive} is milliseconds. Binding the classes themselves also gives
 * Spring Boot's defaults and its map keys for channel names.
 */
final class BootKeepAliveProperties {

	private final Binder binder;

	private final Log logger;

	BootKeepAliveProperties(Environment environment, Log logger) {
		this.binder = Binder.get(environment);
		this.logger = logger;
	}

	/**
	 * Spring Boot's properties object bound from {@code prefix} exactly as Spring Boot binds
	 * it (units, defaults, map keys), or with Spring Boot's defaults when nothing is set.
	 */
	<T> T boots(String prefix, Class<T> type) {
		return this.binder.bindOrCreate(prefix, Bindable.of(type));
	}

	/**
	 * This starter's value, if the application set the property. A bare number is
	 * milliseconds, the default unit of a {@link Duration} and the one of every
	 * {@code grpc.keepalive.*} duration.
	 */
	<T> @Nullable T ours(String property, Class<T> type) {
		return this.binder.bind(property, Bindable.of(type)).orElse(null);
	}

	/** Whether the application set {@code property} (a single value, in any form Spring Boot binds). */
	boolean isSet(String property) {
		return this.binder.bind(property, Bindable.of(String.class)).isBound();
	}

	/** Logs that one property overrides another, naming both values. */
	void logOverride(String applied, @Nullable Object value, String overridden, @Nullable Object overriddenValue,
			String where) {
		this.logger.info(applied + "=" + format(value) + " applied to " + where + " (overrides " + overridden + "="
				+ format(overriddenValue) + ")");
	}

	/** What applies when the user removes a Spring Boot property, for the fix in a failure report. */
	static String bootsDefault(@Nullable Object value) {
		return (value != null) ? "Spring Boot's default of " + format(value) : "Spring Boot's default (none)";
	}

	/**
	 * The name of a property of Spring Boot's channel {@code key}, such as
	 * {@code spring.grpc.client.channel.orders.keepalive.time}. Only ever called with a key
	 * of Spring Boot's channel map (or {@code default}), never with a target: a key that is
	 * no plain name element (dots, upper case, ...) is written in brackets, as Spring Boot
	 * accepts it.
	 */
	static String channelProperty(String key, String suffix) {
		String element = (ConfigurationPropertyName.isValid(key) && key.indexOf('.') < 0) ? "." + key
				: "[" + key + "]";
		return "spring.grpc.client.channel" + element + "." + suffix;
	}

	static String format(@Nullable Object value) {
		if (value == null) {
			return "none";
		}
		if (value instanceof Duration duration) {
			return DurationFormat.format(duration);
		}
		return String.valueOf(value);
	}

}
