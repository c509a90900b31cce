package dev.grpckeepalive.operate;

import java.time.Duration;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/** The body of {@code POST .../rebalance}: what it accepts, and refusals that name the field and the fix. */
class RebalanceRequestTests {

	@Test
	void keepOrShedWithAnOptionalPeriod() {
		assertThat(RebalanceRequest.parse("10", null, null)).isEqualTo(new RebalanceRequest(10, null, Duration.ofSeconds(30)));
		assertThat(RebalanceRequest.parse(null, "0.25", "2m")).isEqualTo(new RebalanceRequest(null, 0.25, Duration.ofMinutes(2)));
		assertThat(RebalanceRequest.parse("0", null, "0s").over()).isZero();
		assertThat(RebalanceRequest.parse(null, "1", "PT1H").over()).isEqualTo(Duration.ofHours(1));
		assertThat(RebalanceRequest.parse(null, "1", "1500").over()).isEqualTo(Duration.ofMillis(1500));
		assertThat(RebalanceRequest.parse(null, "0.5", "10s").describe()).isEqualTo("shed 0.5 over 10s");
	}

	@Test
	void refusalsNameTheFieldAndTheFix() {
		assertRefused(null, null, null, "keep", "\"keep\" is missing: give \"keep\"");
		assertRefused("1", "0.5", null, "shed", "not both");
		assertRefused("-1", null, null, "keep", "a whole number of 0 or more");
		assertRefused("1.5", null, null, "keep", "'1.5'");
		assertRefused(null, "0", null, "shed", "above 0 and at most 1");
		assertRefused(null, "1.01", null, "shed", "above 0 and at most 1");
		assertRefused(null, "a third", null, "shed", "such as {\"shed\": 0.25}");
		assertRefused(null, "0.5", "soon", "over", "give a duration such as \"30s\"");
		assertRefused(null, "0.5", "-5s", "over", "from \"0s\" (all at once) to \"1h\"");
		assertRefused(null, "0.5", "2h", "over", "to \"1h\"");
	}

	private static void assertRefused(String keep, String shed, String over, String field, String message) {
		assertThatExceptionOfType(InvalidRebalanceRequestException.class)
			.isThrownBy(() -> RebalanceRequest.parse(keep, shed, over))
			.satisfies((ex) -> assertThat(ex.getField()).isEqualTo(field))
			.withMessageContaining(message);
	}

}
