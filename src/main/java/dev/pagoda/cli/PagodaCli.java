package dev.pagoda.cli;

public final class PagodaCli {
    public static void main(String[] args) {
        System.out.println("pagoda");
    }
}
