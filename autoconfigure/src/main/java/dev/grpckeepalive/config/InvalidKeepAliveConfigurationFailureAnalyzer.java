package dev.grpckeepalive.config;

import org.jspecify.annotations.Nullable;

import org.springframework.boot.context.properties.source.ConfigurationProperty;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName;
import org.springframework.boot.context.properties.source.ConfigurationPropertySource;
import org.springframework.boot.context.properties.source.ConfigurationPropertySources;
import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.origin.Origin;
import org.springframework.core.env.Environment;

/**
 * Reports an {@link InvalidKeepAliveConfigurationException}: for each invalid value the
 * property, the value as written, where it was written, why it is wrong and the fix.
 */
class InvalidKeepAliveConfigurationFailureAnalyzer
		extends AbstractFailureAnalyzer<InvalidKeepAliveConfigurationException> {

	private final @Nullable Environment environment;

	InvalidKeepAliveConfigurationFailureAnalyzer(@Nullable Environment environment) {
		this.environment = environment;
	}

	@Override
	protected FailureAnalysis analyze(Throwable rootFailure, InvalidKeepAliveConfigurationException cause) {
		StringBuilder description = new StringBuilder("Invalid gRPC keepalive configuration:\n");
		StringBuilder action = new StringBuilder("Update your application's configuration:\n");
		for (ConfigurationViolation violation : cause.getViolations()) {
			ConfigurationProperty source = findSource(violation.property());
			Object value = (source != null) ? source.getValue() : violation.value();
			description.append("\n    Property: ").append(violation.property());
			description.append("\n    Value:    \"").append(value).append('"');
			Origin origin = (source != null) ? source.getOrigin() : null;
			if (origin != null) {
				description.append("\n    Origin:   ").append(origin);
			}
			description.append("\n    Reason:   ").append(violation.property()).append(' ').append(violation.problem());
			description.append('\n');
			action.append("\n    ").append(violation.property()).append(": ").append(violation.fix());
		}
		return new FailureAnalysis(description.toString(), action.toString(), cause);
	}

	private @Nullable ConfigurationProperty findSource(String property) {
		if (this.environment == null) {
			return null;
		}
		ConfigurationPropertyName name = ConfigurationPropertyName.ofIfValid(property);
		if (name == null) {
			return null;
		}
		for (ConfigurationPropertySource source : ConfigurationPropertySources.get(this.environment)) {
			ConfigurationProperty candidate = source.getConfigurationProperty(name);
			if (candidate != null) {
				return candidate;
			}
		}
		return null;
	}

}
