#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Proleptic-Gregorian UTC arithmetic on plain integers.
///
/// `Calendar`/`TimeZone` would work too, but integer arithmetic makes day boundaries and
/// timestamps identical on every platform and independent of the host's zone settings.
enum UTCCalendar {
    static let secondsPerDay: Int64 = 86_400
    /// Seconds between 1970-01-01 (Unix epoch) and 2001-01-01 (Foundation's reference date).
    static let unixToReferenceSeconds: Int64 = 978_307_200

    /// Whole days since 1970-01-01 of the UTC day that contains `date`.
    static func dayNumber(of date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 / Double(secondsPerDay)).rounded(.down))
    }

    /// `YYYY-MM-DD` of a day number.
    static func dateString(ofDay dayNumber: Int64) -> String {
        let civil = civilDate(fromDay: dayNumber)
        return "\(pad(civil.year, 4))-\(pad(civil.month, 2))-\(pad(civil.day, 2))"
    }

    // Howard Hinnant's days_from_civil / civil_from_days: exact for every Gregorian date.
    static func dayNumber(year: Int64, month: Int64, day: Int64) -> Int64 {
        let shiftedYear = month <= 2 ? year - 1 : year
        let era = (shiftedYear >= 0 ? shiftedYear : shiftedYear - 399) / 400
        let yearOfEra = shiftedYear - era * 400
        let monthFromMarch = (month + 9) % 12
        let dayOfYear = (153 * monthFromMarch + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    static func civilDate(fromDay dayNumber: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let shifted = dayNumber + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthFromMarch = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthFromMarch + 2) / 5 + 1
        let month = monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    static func daysInMonth(year: Int64, month: Int64) -> Int64 {
        let nextMonthStart = month == 12
            ? dayNumber(year: year + 1, month: 1, day: 1)
            : dayNumber(year: year, month: month + 1, day: 1)
        return nextMonthStart - dayNumber(year: year, month: month, day: 1)
    }

    static func pad(_ value: Int64, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
