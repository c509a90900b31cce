package dev.grpckeepalive.sample;

import java.time.Duration;
import java.util.List;

import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * Settings of the sample itself.
 *
 * @param symbols the instruments the price book quotes
 * @param tickInterval how often prices move and the feed publishes
 * @param subscribe whether this application subscribes to its own feed over the 'prices' channel
 */
@ConfigurationProperties("sample")
public record SampleProperties(List<String> symbols, Duration tickInterval, boolean subscribe) {

	public SampleProperties {
		symbols = (symbols != null) ? List.copyOf(symbols) : List.of("ACME", "GLOBEX", "INITECH");
		tickInterval = (tickInterval != null) ? tickInterval : Duration.ofSeconds(1);
	}

}
