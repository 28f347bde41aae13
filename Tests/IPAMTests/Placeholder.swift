// IPAM lands with the CNI issue (#3); its tests go here.
import XCTest
