// Package fakeexchange is an in-process simulation of the EXchange, a Peatio
// exchange on Doorkeeper 1.4, for tests and the demo.
package fakeexchange
