package dev.grpckeepalive.config;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

import org.jspecify.annotations.Nullable;

/**
 * Every {@code grpc.keepalive.*} option, validated as a whole, with requested and effective
 * values. The server and client auto-configurations build grpc-java from this, never from
 * the raw properties, so nothing reaches grpc-java unvalidated.
 */
public final class KeepAliveSettings {

	private final ServerKeepAliveSettings server;

	private final Map<String, ChannelKeepAliveSettings> channels;

	KeepAliveSettings(ServerKeepAliveSettings server, Map<String, ChannelKeepAliveSettings> channels) {
		this.server = server;
		this.channels = Collections.unmodifiableMap(new LinkedHashMap<>(channels));
	}

	/**
	 * Validates the bound properties and works out the values grpc-java will apply.
	 * @param properties the bound properties
	 * @return the settings
	 * @throws InvalidKeepAliveConfigurationException listing every invalid value
	 */
	public static KeepAliveSettings resolve(GrpcKeepAliveProperties properties) {
		return resolve(properties, PropertyNames.ours());
	}

	/**
	 * Like {@link #resolve(GrpcKeepAliveProperties)} for properties some of whose values
	 * were read from elsewhere: warnings, violations and each {@link DurationSetting} name
	 * the property a value was read from.
	 * @param properties the values
	 * @param names where the values were read from
	 * @return the settings
	 * @throws InvalidKeepAliveConfigurationException listing every invalid value
	 */
	public static KeepAliveSettings resolve(GrpcKeepAliveProperties properties, PropertyNames names) {
		return new KeepAliveSettingsResolver(properties, names).resolve();
	}

	public ServerKeepAliveSettings server() {
		return this.server;
	}

	/** The channels by name, in configuration order. */
	public Map<String, ChannelKeepAliveSettings> channels() {
		return this.channels;
	}

	public Set<String> channelNames() {
		return this.channels.keySet();
	}

	public @Nullable ChannelKeepAliveSettings channel(String name) {
		return this.channels.get(name);
	}

	static String channelPrefix(String name) {
		return GrpcKeepAliveProperties.PREFIX + ".client.channels." + name;
	}

}
