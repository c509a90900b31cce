package dev.grpckeepalive.companion;

import java.time.Duration;

import org.apache.commons.logging.Log;
import org.jspecify.annotations.Nullable;

import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.core.env.Environment;

/**
 * Reads a keepalive option as the application set it: one of this starter's properties when
 * set explicitly, otherwise Spring Boot's own {@code spring.grpc.*} property, otherwise
 * Spring Boot's default. This starter's properties win, and each one that overrides a
 * Spring Boot value is logged.
 */
final class BootKeepAliveProperties {

	private final Binder binder;

	private final Log logger;

	BootKeepAliveProperties(Environment environment, Log logger) {
		this.binder = Binder.get(environment);
		this.logger = logger;
	}

	/** This starter's value, if the application set the property. */
	<T> @Nullable T ours(String property, Class<T> type) {
		return this.binder.bind(property, Bindable.of(type)).orElse(null);
	}

	/** The value in force: ours if set, else Spring Boot's property, else Spring Boot's default. */
	<T> @Nullable T value(String ours, String boots, Class<T> type, @Nullable T bootsDefault) {
		T value = ours(ours, type);
		return (value != null) ? value : this.binder.bind(boots, Bindable.of(type)).orElse(bootsDefault);
	}

	/** Logs that this starter's property overrides Spring Boot's, naming both values. */
	void logOverride(String ours, Object value, String boots, @Nullable Object bootsValue, String where) {
		Object replaced = this.binder.bind(boots, Bindable.of(Object.class)).orElse(bootsValue);
		this.logger.info(ours + "=" + format(value) + " applied to " + where + " (overrides " + boots + "="
				+ format(replaced) + ")");
	}

	private static String format(@Nullable Object value) {
		if (value instanceof Duration duration) {
			return dev.grpckeepalive.config.DurationFormat.format(duration);
		}
		return String.valueOf(value);
	}

}
