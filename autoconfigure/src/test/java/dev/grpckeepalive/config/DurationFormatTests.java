package dev.grpckeepalive.config;

import java.time.Duration;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.assertj.core.api.Assertions.assertThat;

class DurationFormatTests {

	@ParameterizedTest
	@CsvSource({ "PT0S, 0s", "PT10S, 10s", "PT0.5S, 500ms", "PT1M30S, 1m30s", "PT2H, 2h", "PT-5S, -5s",
			"PT24H, 1d", "PT0.000000001S, 1ns" })
	void formatsLikeApplicationYaml(Duration duration, String expected) {
		assertThat(DurationFormat.format(duration)).isEqualTo(expected);
	}

}
